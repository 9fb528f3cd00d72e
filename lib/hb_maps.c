// SPDX-License-Identifier: Apache-2.0
/* Map access by id: single-key operations and bulk dumps, per-CPU values raw or summed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hb_internal.h"

/* Entries fetched per batch syscall; bounds the scratch buffer of per-CPU dumps. */
#define HB_BATCH 256

int hb_possible_cpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? n : 1;
}

static int is_percpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

static struct hb_map *get_map(struct hb_handle *hh, int id)
{
	if (id < 0 || id >= hh->nmaps) {
		hb_fail(hh, ENOENT, "map id %d", id);
		return NULL;
	}
	return &hh->maps[id];
}

HB_API int hb_map(int h, const char *name)
{
	struct hb_handle *hh = hb_enter(h);
	struct hb_map *grown, *m;
	struct bpf_map *map;
	int i;

	if (!hh)
		return -EBADF;
	map = hh->obj ? bpf_object__find_map_by_name(hh->obj, name) : NULL;
	if (!map)
		return hb_fail(hh, ENOENT, "map %s: not in object", name);
	if (bpf_map__fd(map) < 0)
		return hb_fail(hh, EINVAL, "map %s: not created (object not loaded, or map left out)", name);
	for (i = 0; i < hh->nmaps; i++)
		if (hh->maps[i].map == map)
			return i;
	grown = realloc(hh->maps, (hh->nmaps + 1) * sizeof(*grown));
	if (!grown)
		return hb_fail(hh, ENOMEM, "map %s", name);
	hh->maps = grown;
	m = &hh->maps[hh->nmaps];
	m->map = map;
	m->fd = bpf_map__fd(map);
	m->type = bpf_map__type(map);
	m->key_size = bpf_map__key_size(map);
	m->value_size = bpf_map__value_size(map);
	m->max_entries = bpf_map__max_entries(map);
	m->percpu = is_percpu(m->type);
	return hh->nmaps++;
}

HB_API int hb_map_info(int h, int id, uint32_t *out)
{
	struct hb_handle *hh = hb_enter(h);
	struct hb_map *m;

	if (!hh)
		return -EBADF;
	m = get_map(hh, id);
	if (!m)
		return -ENOENT;
	out[HB_MI_TYPE] = m->type;
	out[HB_MI_KEY_SIZE] = m->key_size;
	out[HB_MI_VALUE_SIZE] = m->value_size;
	out[HB_MI_MAX_ENTRIES] = m->max_entries;
	out[HB_MI_PERCPU] = m->percpu;
	out[HB_MI_NCPUS] = hb_possible_cpus();
	out[HB_MI_FD] = m->fd;
	return 0;
}

static size_t stride(const struct hb_map *m)
{
	return (m->value_size + 7) & ~7u;
}

/* Bytes one entry's value takes in the kernel's per-CPU layout (or plain). */
static size_t raw_size(const struct hb_map *m)
{
	return m->percpu ? stride(m) * hb_possible_cpus() : m->value_size;
}

static size_t out_size(const struct hb_map *m, int flags)
{
	return m->percpu && flags == HB_PERCPU_SUM ? m->value_size : raw_size(m);
}

static void sum_percpu(const struct hb_map *m, const void *raw, void *out)
{
	uint64_t *dst = out;
	size_t words = m->value_size / 8, w;
	int cpu, n = hb_possible_cpus();

	memset(dst, 0, m->value_size);
	for (cpu = 0; cpu < n; cpu++) {
		const uint64_t *src = (const uint64_t *)((const char *)raw + cpu * stride(m));

		for (w = 0; w < words; w++)
			dst[w] += src[w];
	}
}

static int check_flags(struct hb_handle *hh, const struct hb_map *m, int flags)
{
	if (flags == HB_PERCPU_SUM && m->percpu && m->value_size % 8)
		return hb_fail(hh, EINVAL, "map %s: summing needs a value size multiple of 8",
			       bpf_map__name(m->map));
	return 0;
}

HB_API int hb_map_lookup(int h, int id, const void *key, void *value, int flags)
{
	struct hb_handle *hh = hb_enter(h);
	struct hb_map *m;
	void *raw;
	int err;

	if (!hh)
		return -EBADF;
	m = get_map(hh, id);
	if (!m)
		return -ENOENT;
	if ((err = check_flags(hh, m, flags)))
		return err;
	raw = m->percpu && flags == HB_PERCPU_SUM ? malloc(raw_size(m)) : value;
	if (!raw)
		return hb_fail(hh, ENOMEM, "lookup in %s", bpf_map__name(m->map));
	err = bpf_map_lookup_elem(m->fd, key, raw) ? -errno : 0;
	if (!err && raw != value)
		sum_percpu(m, raw, value);
	if (raw != value)
		free(raw);
	if (err == -ENOENT)
		return 0;
	return err ? hb_fail(hh, err, "lookup in %s", bpf_map__name(m->map)) : 1;
}

HB_API int hb_map_update(int h, int id, const void *key, const void *value, uint64_t flags)
{
	struct hb_handle *hh = hb_enter(h);
	struct hb_map *m;

	if (!hh)
		return -EBADF;
	m = get_map(hh, id);
	if (!m)
		return -ENOENT;
	if (bpf_map_update_elem(m->fd, key, value, flags))
		return hb_fail(hh, errno, "update %s", bpf_map__name(m->map));
	return 0;
}

HB_API int hb_map_delete(int h, int id, const void *key)
{
	struct hb_handle *hh = hb_enter(h);
	struct hb_map *m;

	if (!hh)
		return -EBADF;
	m = get_map(hh, id);
	if (!m)
		return -ENOENT;
	if (!bpf_map_delete_elem(m->fd, key))
		return 1;
	if (errno == ENOENT)
		return 0;
	return hb_fail(hh, errno, "delete from %s", bpf_map__name(m->map));
}

/* Moves n raw entries from scratch into the caller's arrays at position at. */
static void emit(const struct hb_map *m, int flags, const char *keys, const char *raw, int n,
		 char *okeys, char *ovals, uint32_t at)
{
	size_t rs = raw_size(m), os = out_size(m, flags);
	int i;

	memcpy(okeys + (size_t)at * m->key_size, keys, (size_t)n * m->key_size);
	for (i = 0; i < n; i++) {
		char *dst = ovals + (size_t)(at + i) * os;

		if (os != rs)
			sum_percpu(m, raw + i * rs, dst);
		else
			memcpy(dst, raw + i * rs, rs);
	}
}

/* Batched dump (hash maps since 5.6, arrays since 5.9); -EOPNOTSUPP-like errors ask for a fallback. */
static int dump_batch(struct hb_map *m, int flags, char *keys, char *vals, uint32_t max,
		      char *skeys, char *sraw)
{
	/* the batch position is a u32 bucket (hash maps) or a key (arrays): room for either */
	size_t token_size = m->key_size > 8 ? m->key_size : 8;
	char *in = calloc(2, token_size), *out = in + token_size;
	uint32_t total = 0, count;
	int err = 0, first = 1;

	if (!in)
		return -ENOMEM;
	while (total < max) {
		count = max - total < HB_BATCH ? max - total : HB_BATCH;
		err = bpf_map_lookup_batch(m->fd, first ? NULL : in, out, skeys, sraw, &count, NULL);
		err = err ? -errno : 0;
		if (err && err != -ENOENT)
			break;
		emit(m, flags, skeys, sraw, count, keys, vals, total);
		total += count;
		if (err == -ENOENT)
			break;
		memcpy(in, out, token_size);
		first = 0;
	}
	free(in);
	return err && err != -ENOENT ? err : (int)total;
}

/* Key-by-key dump for kernels and map types without batch operations. */
static int dump_iter(struct hb_map *m, int flags, char *keys, char *vals, uint32_t max,
		     char *skeys, char *sraw)
{
	char *prev = NULL, *key = skeys;
	uint32_t total = 0;

	while (total < max && !bpf_map_get_next_key(m->fd, prev, key)) {
		if (bpf_map_lookup_elem(m->fd, key, sraw)) {
			if (errno != ENOENT)
				return -errno;
		} else {
			emit(m, flags, key, sraw, 1, keys, vals, total++);
		}
		/* alternate two key slots so prev stays valid */
		prev = key;
		key = key == skeys ? skeys + m->key_size : skeys;
	}
	return total;
}

HB_API int hb_map_dump(int h, int id, void *keys, void *values, uint32_t max, int flags)
{
	struct hb_handle *hh = hb_enter(h);
	char *skeys, *sraw;
	struct hb_map *m;
	int n;

	if (!hh)
		return -EBADF;
	m = get_map(hh, id);
	if (!m)
		return -ENOENT;
	if ((n = check_flags(hh, m, flags)))
		return n;
	skeys = malloc((size_t)HB_BATCH * m->key_size + 8);
	sraw = malloc((size_t)HB_BATCH * raw_size(m));
	if (!skeys || !sraw) {
		n = -ENOMEM;
	} else {
		n = dump_batch(m, flags, keys, values, max, skeys, sraw);
		/* EINVAL/ENOTSUPP(524): no batch ops; ENOSPC: a hash bucket outgrew the batch */
		if (n == -EINVAL || n == -524 || n == -EOPNOTSUPP || n == -ENOSPC)
			n = dump_iter(m, flags, keys, values, max, skeys, sraw);
	}
	free(skeys);
	free(sraw);
	return n < 0 ? hb_fail(hh, n, "dump %s", bpf_map__name(m->map)) : n;
}
