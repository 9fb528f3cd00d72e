// SPDX-License-Identifier: Apache-2.0
/* The object lifecycle before attaching: open from memory, .rodata constants, program and map selection, load. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "hb_internal.h"

HB_API int hb_open(int h, const void *data, uint64_t len, const char *name, const char *btf_path)
{
	struct hb_handle *hh = hb_enter(h);
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_object *obj;

	if (!hh)
		return -EBADF;
	if (hh->obj)
		return hb_fail(hh, EBUSY, "open %s: handle already has an object", name);
	/* libbpf may refer to the ELF bytes after open; the caller's buffer can move or be freed */
	hh->data = malloc(len ? len : 1);
	if (!hh->data)
		return hb_fail(hh, ENOMEM, "open %s", name);
	memcpy(hh->data, data, len);
	opts.object_name = name;
	if (btf_path && btf_path[0])
		opts.btf_custom_path = btf_path;
	obj = bpf_object__open_mem(hh->data, len, &opts);
	if (!obj) {
		int err = errno;

		free(hh->data);
		hh->data = NULL;
		return hb_fail(hh, err, "open object %s", name);
	}
	hh->obj = obj;
	return 0;
}

static struct bpf_map *rodata_map(struct bpf_object *obj)
{
	struct bpf_map *map;
	const char *name;
	size_t n;

	bpf_object__for_each_map(map, obj) {
		name = bpf_map__name(map);
		n = strlen(name);
		/* internal maps are named "<object prefix>.rodata" */
		if (bpf_map__is_internal(map) && n >= 7 && !strcmp(name + n - 7, ".rodata"))
			return map;
	}
	return NULL;
}

HB_API int hb_set_rodata(int h, const char *var, const void *val, uint32_t len)
{
	struct hb_handle *hh = hb_enter(h);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec, *t;
	struct bpf_map *map;
	struct btf *btf;
	size_t size;
	char *data;
	int id, i;

	if (!hh)
		return -EBADF;
	if (!hh->obj)
		return hb_fail(hh, EINVAL, "set constant %s: no object open", var);
	map = rodata_map(hh->obj);
	btf = bpf_object__btf(hh->obj);
	if (!map || !btf)
		return hb_fail(hh, ENOENT, "set constant %s: object has no .rodata", var);
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return hb_fail(hh, ENOENT, "set constant %s: no .rodata in BTF", var);
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		t = btf__type_by_id(btf, vs->type);
		if (strcmp(btf__name_by_offset(btf, t->name_off), var))
			continue;
		if (vs->size != len)
			return hb_fail(hh, EINVAL, "set constant %s: size %u, variable has %u",
				       var, len, vs->size);
		data = (char *)bpf_map__initial_value(map, &size);
		if (!data || vs->offset + len > size)
			return hb_fail(hh, EINVAL, "set constant %s: .rodata not writable", var);
		memcpy(data + vs->offset, val, len);
		return 0;
	}
	return hb_fail(hh, ENOENT, "set constant %s: no such variable", var);
}

HB_API int hb_prog_autoload(int h, const char *prog, int on)
{
	struct hb_handle *hh = hb_enter(h);
	struct bpf_program *p;

	if (!hh)
		return -EBADF;
	p = hh->obj ? bpf_object__find_program_by_name(hh->obj, prog) : NULL;
	if (!p)
		return hb_fail(hh, ENOENT, "program %s: not in object", prog);
	return bpf_program__set_autoload(p, on != 0) ? hb_fail(hh, EBUSY, "program %s", prog) : 0;
}

HB_API int hb_map_autocreate(int h, const char *name, int on)
{
	struct hb_handle *hh = hb_enter(h);
	struct bpf_map *map;

	if (!hh)
		return -EBADF;
	map = hh->obj ? bpf_object__find_map_by_name(hh->obj, name) : NULL;
	if (!map)
		return hb_fail(hh, ENOENT, "map %s: not in object", name);
	return bpf_map__set_autocreate(map, on != 0) ? hb_fail(hh, EBUSY, "map %s", name) : 0;
}

HB_API int hb_ringbuf_per_cpu(int h, const char *name, uint32_t bytes_per_cpu)
{
	struct hb_handle *hh = hb_enter(h);
	struct bpf_map *map;
	uint64_t want;
	uint32_t size;

	if (!hh)
		return -EBADF;
	map = hh->obj ? bpf_object__find_map_by_name(hh->obj, name) : NULL;
	if (!map || bpf_map__type(map) != BPF_MAP_TYPE_RINGBUF)
		return hb_fail(hh, ENOENT, "ring buffer %s: not in object", name);
	want = (uint64_t)bytes_per_cpu * hb_possible_cpus();
	/* a ring buffer is a power of two pages: the compiled size (one) or the next above want */
	for (size = bpf_map__max_entries(map); size < want && size < (1u << 30); size <<= 1)
		;
	if (bpf_map__set_max_entries(map, size))
		return hb_fail(hh, EBUSY, "ring buffer %s: size %u", name, size);
	return size;
}

HB_API int hb_load(int h)
{
	struct hb_handle *hh = hb_enter(h);
	int err;

	if (!hh)
		return -EBADF;
	if (!hh->obj)
		return hb_fail(hh, EINVAL, "load: no object open");
	err = bpf_object__load(hh->obj);
	if (err)
		return hb_fail(hh, err, "load %s", bpf_object__name(hh->obj));
	return 0;
}
