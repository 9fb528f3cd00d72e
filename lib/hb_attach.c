// SPDX-License-Identifier: Apache-2.0
/* Attaching loaded programs to hooks (tracepoints, raw tracepoints, BTF hooks, kprobes, perf events). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hb_internal.h"

/* Online CPUs from sysfs ("0-3,5"); fills cpus[] and returns the count. */
static int online_cpus(int *cpus, int cap)
{
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	int a, b, n = 0;
	char sep;

	if (!f)
		return -errno;
	while (fscanf(f, "%d", &a) == 1) {
		b = a;
		if (fscanf(f, "%c", &sep) == 1 && sep == '-') {
			if (fscanf(f, "%d", &b) != 1)
				break;
			if (fscanf(f, "%c", &sep) != 1)
				sep = '\n';
		}
		for (; a <= b && n < cap; a++)
			cpus[n++] = a;
		if (sep != ',')
			break;
	}
	fclose(f);
	return n;
}

static int add_link(struct hb_handle *hh, struct bpf_link **links, int n)
{
	struct hb_link *grown;
	int i;

	for (i = 0; i < hh->nlinks; i++)
		if (!hh->links[i].n)
			break;
	if (i == hh->nlinks) {
		grown = realloc(hh->links, (hh->nlinks + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		hh->links = grown;
		hh->nlinks++;
	}
	hh->links[i].links = links;
	hh->links[i].n = n;
	return i;
}

static void destroy_links(struct bpf_link **links, int n)
{
	while (n-- > 0)
		bpf_link__destroy(links[n]);
	free(links);
}

/* One sampling perf event per online CPU, each running prog; target is "<type>:<config>". */
static int attach_perf(struct hb_handle *hh, struct bpf_program *prog, const char *target,
		       uint64_t freq, struct bpf_link ***out)
{
	struct perf_event_attr attr = { .size = sizeof(attr), .freq = 1, .sample_freq = freq };
	int cpus[1024], n, i, fd, err;
	struct bpf_link **links;
	unsigned long long cfg;
	unsigned int type;

	if (sscanf(target, "%u:%llu", &type, &cfg) != 2 || !freq)
		return hb_fail(hh, EINVAL, "attach perf event %s: want \"<type>:<config>\" and a frequency",
			       target);
	attr.type = type;
	attr.config = cfg;
	n = online_cpus(cpus, 1024);
	if (n <= 0)
		return hb_fail(hh, n ? n : ENODEV, "attach perf event %s: online CPUs", target);
	links = calloc(n, sizeof(*links));
	if (!links)
		return hb_fail(hh, ENOMEM, "attach perf event %s", target);
	for (i = 0; i < n; i++) {
		fd = syscall(__NR_perf_event_open, &attr, -1, cpus[i], -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			err = errno;
			destroy_links(links, i);
			return hb_fail(hh, err, "attach perf event %s: perf_event_open cpu %d", target,
				       cpus[i]);
		}
		links[i] = bpf_program__attach_perf_event(prog, fd);
		if (!links[i]) {
			err = errno;
			close(fd);
			destroy_links(links, i);
			return hb_fail(hh, err, "attach perf event %s: cpu %d", target, cpus[i]);
		}
	}
	*out = links;
	return n;
}

static struct bpf_link *attach_one(struct bpf_program *prog, int kind, const char *target)
{
	char group[128];
	const char *slash;

	switch (kind) {
	case HB_ATTACH_TRACEPOINT:
		slash = strchr(target, '/');
		if (!slash || slash - target >= (long)sizeof(group)) {
			errno = EINVAL;
			return NULL;
		}
		memcpy(group, target, slash - target);
		group[slash - target] = '\0';
		return bpf_program__attach_tracepoint(prog, group, slash + 1);
	case HB_ATTACH_RAW_TRACEPOINT:
		return bpf_program__attach_raw_tracepoint(prog, target);
	case HB_ATTACH_BTF:
		return bpf_program__attach_trace(prog);
	case HB_ATTACH_KPROBE:
	case HB_ATTACH_KRETPROBE:
		return bpf_program__attach_kprobe(prog, kind == HB_ATTACH_KRETPROBE, target);
	}
	errno = EINVAL;
	return NULL;
}

static const char *kind_name(int kind)
{
	static const char *names[] = { "?", "tracepoint", "raw tracepoint", "btf hook", "kprobe",
				       "kretprobe", "perf event" };

	return kind > 0 && kind <= HB_ATTACH_PERF_EVENT ? names[kind] : names[0];
}

HB_API int hb_attach(int h, const char *prog, int kind, const char *target, uint64_t arg)
{
	struct hb_handle *hh = hb_enter(h);
	struct bpf_link **links;
	struct bpf_program *p;
	char what[192];
	int n = 1, id;

	if (!hh)
		return -EBADF;
	snprintf(what, sizeof(what), "attach %s%s%.160s", kind_name(kind), target[0] ? " " : "", target);
	p = hh->obj ? bpf_object__find_program_by_name(hh->obj, prog) : NULL;
	if (!p)
		return hb_fail(hh, ENOENT, "%s: program %s not in object", what, prog);
	if (bpf_program__fd(p) < 0)
		return hb_fail(hh, EINVAL, "%s: program %s not loaded", what, prog);
	if (kind == HB_ATTACH_PERF_EVENT) {
		n = attach_perf(hh, p, target, arg, &links);
		if (n < 0)
			return n;
	} else {
		links = calloc(1, sizeof(*links));
		if (!links)
			return hb_fail(hh, ENOMEM, "%s", what);
		links[0] = attach_one(p, kind, target);
		if (!links[0]) {
			int err = errno;

			free(links);
			return hb_fail(hh, err, "%s", what);
		}
	}
	id = add_link(hh, links, n);
	if (id < 0) {
		destroy_links(links, n);
		return hb_fail(hh, ENOMEM, "%s", what);
	}
	return id;
}

HB_API int hb_detach(int h, int link)
{
	struct hb_handle *hh = hb_enter(h);

	if (!hh)
		return -EBADF;
	if (link < 0 || link >= hh->nlinks || !hh->links[link].n)
		return hb_fail(hh, ENOENT, "detach link %d", link);
	destroy_links(hh->links[link].links, hh->links[link].n);
	hh->links[link].links = NULL;
	hh->links[link].n = 0;
	return 0;
}

HB_API int hb_prog_stats(int h, const char *prog, uint64_t *out)
{
	struct hb_handle *hh = hb_enter(h);
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	struct bpf_program *p;
	int err;

	if (!hh)
		return -EBADF;
	p = hh->obj ? bpf_object__find_program_by_name(hh->obj, prog) : NULL;
	if (!p || bpf_program__fd(p) < 0)
		return hb_fail(hh, ENOENT, "stats of %s: program not loaded", prog);
	err = bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len);
	if (err)
		return hb_fail(hh, err, "stats of %s", prog);
	out[0] = info.run_time_ns;
	out[1] = info.run_cnt;
	return 0;
}
