// SPDX-License-Identifier: Apache-2.0
/* Handles, error recording, libbpf message capture, and kernel probes. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <bpf/libbpf.h>

#include "hb_internal.h"

static struct hb_handle **handles;
static int nhandles;
static struct hb_handle *current;	/* receives libbpf messages of the running call */
static int log_level;
static int global_errno;
static char global_err[HB_ERR_CAP];

static void log_append(struct hb_handle *hh, const char *text, size_t len)
{
	/* verifier logs end with the interesting part: keep the newest bytes */
	if (len > HB_LOG_CAP / 2) {
		text += len - HB_LOG_CAP / 2;
		len = HB_LOG_CAP / 2;
	}
	if (hh->log_len + len > HB_LOG_CAP) {
		size_t keep = HB_LOG_CAP / 2;
		size_t drop = hh->log_len > keep ? hh->log_len - keep : 0;

		memmove(hh->log, hh->log + drop, hh->log_len - drop);
		hh->log_len -= drop;
	}
	memcpy(hh->log + hh->log_len, text, len);
	hh->log_len += len;
}

static void note_first_warn(struct hb_handle *hh, const char *text)
{
	size_t l = strcspn(text, "\n");

	if (l >= sizeof(hh->first_warn))
		l = sizeof(hh->first_warn) - 1;
	memcpy(hh->first_warn, text, l);
	hh->first_warn[l] = '\0';
}

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024], *text = line;
	va_list again;
	int n;

	if (!current || (int)level > log_level)
		return 0;
	va_copy(again, ap);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	/* verifier logs arrive as one message of many kilobytes */
	if (n >= (int)sizeof(line) && (text = malloc(n + 1)))
		vsnprintf(text, n + 1, fmt, again);
	va_end(again);
	if (n < 0 || !text)
		return 0;
	log_append(current, text, strlen(text));
	if (level == LIBBPF_WARN && !current->first_warn[0])
		note_first_warn(current, text);
	if (text != line)
		free(text);
	return 0;
}

__attribute__((constructor)) static void hb_init(void)
{
	/* libbpf prints to stderr by default; the agent owns its output */
	libbpf_set_print(print_fn);
}

HB_API int hb_abi_version(void)
{
	return HB_ABI_VERSION;
}

HB_API int hb_set_log_level(int level)
{
	log_level = level < 0 ? 0 : level > 2 ? 2 : level;
	return 0;
}

/* A live handle, or NULL (and EBADF recorded globally). */
static struct hb_handle *hb_get(int h)
{
	if (h < 0 || h >= nhandles || !handles[h] || !handles[h]->used) {
		global_errno = EBADF;
		snprintf(global_err, sizeof(global_err), "invalid handle %d", h);
		return NULL;
	}
	return handles[h];
}

/* Start a call on hh: libbpf messages from now on are captured into it. */
static void hb_begin(struct hb_handle *hh)
{
	current = hh;
	hh->first_warn[0] = '\0';
}

struct hb_handle *hb_enter(int h)
{
	struct hb_handle *hh = hb_get(h);

	if (hh)
		hb_begin(hh);
	return hh;
}

int hb_fail(struct hb_handle *hh, int err, const char *fmt, ...)
{
	char msg[400], text[128];
	va_list ap;

	if (err < 0)
		err = -err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* knows libbpf's own codes (4000+, e.g. "Invalid BPF object format") besides errno */
	libbpf_strerror(err, text, sizeof(text));
	/* "permission denied" reads better mid-sentence; keep acronyms ("BPF object ...") */
	if (isupper((unsigned char)text[0]) && islower((unsigned char)text[1]))
		text[0] = tolower((unsigned char)text[0]);
	global_errno = err;
	if (hh && hh->first_warn[0])
		snprintf(global_err, sizeof(global_err), "%s: %s (%s)", msg, text, hh->first_warn);
	else
		snprintf(global_err, sizeof(global_err), "%s: %s", msg, text);
	if (hh) {
		hh->err_no = err;
		memcpy(hh->err, global_err, sizeof(hh->err));
	}
	return -err;
}

HB_API int hb_new(void)
{
	struct hb_handle *hh = calloc(1, sizeof(*hh));
	int h;

	if (!hh || !(hh->log = malloc(HB_LOG_CAP))) {
		free(hh);
		return hb_fail(NULL, ENOMEM, "new handle");
	}
	hh->used = 1;
	for (h = 0; h < nhandles; h++)
		if (!handles[h])
			break;
	if (h == nhandles) {
		struct hb_handle **grown = realloc(handles, (nhandles + 8) * sizeof(*handles));

		if (!grown) {
			free(hh->log);
			free(hh);
			return hb_fail(NULL, ENOMEM, "new handle");
		}
		memset(grown + nhandles, 0, 8 * sizeof(*handles));
		handles = grown;
		nhandles += 8;
	}
	handles[h] = hh;
	return h;
}

HB_API int hb_free(int h)
{
	struct hb_handle *hh = hb_enter(h);
	int i, j;

	if (!hh)
		return -EBADF;
	hb_poller_free(hh);
	hb_readers_free(hh);
	for (i = 0; i < hh->nlinks; i++) {
		for (j = 0; j < hh->links[i].n; j++)
			bpf_link__destroy(hh->links[i].links[j]);
		free(hh->links[i].links);
	}
	free(hh->links);
	free(hh->maps);
	bpf_object__close(hh->obj);
	free(hh->data);
	free(hh->log);
	free(hh);
	handles[h] = NULL;
	current = NULL;
	return 0;
}

static int copy_out(char *buf, uint32_t cap, const char *text, size_t len)
{
	if (!buf || !cap)
		return 0;
	if (len >= cap)
		len = cap - 1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	return (int)len;
}

HB_API int hb_error(int h, char *buf, uint32_t cap)
{
	struct hb_handle *hh = h == HB_GLOBAL ? NULL : hb_get(h);

	if (!hh) {
		copy_out(buf, cap, global_err, strlen(global_err));
		return global_errno;
	}
	copy_out(buf, cap, hh->err, strlen(hh->err));
	return hh->err_no;
}

HB_API int hb_log(int h, char *buf, uint32_t cap)
{
	struct hb_handle *hh = hb_get(h);

	if (!hh)
		return -EBADF;
	return copy_out(buf, cap, hh->log, hh->log_len);
}

HB_API int hb_probe_map_type(int type)
{
	int ret = libbpf_probe_bpf_map_type((enum bpf_map_type)type, NULL);

	return ret < 0 ? hb_fail(NULL, ret, "probe map type %d", type) : ret;
}

HB_API int hb_probe_prog_type(int type)
{
	int ret = libbpf_probe_bpf_prog_type((enum bpf_prog_type)type, NULL);

	return ret < 0 ? hb_fail(NULL, ret, "probe program type %d", type) : ret;
}

HB_API int hb_mount_tracefs(const char *target)
{
	if (mount("nodev", target, "tracefs", 0, NULL))
		return hb_fail(NULL, errno, "mount tracefs at %s", target);
	return 0;
}
