/* SPDX-License-Identifier: GPL-2.0 */
/* oom: one OOM kill, shared between bpf/oom.bpf.c and src/events/oom.ts (via generated decoders). */
#ifndef OOM_H
#define OOM_H

/* Victim facts read from its task_struct (memcg, tgid); otherwise only the tracepoint record's. */
#define OOM_VICTIM_TASK	(1 << 0)
/* Memory figures (total_vm_kb .. oom_score_adj) are valid. */
#define OOM_VICTIM_MEM	(1 << 1)
/* memcg_usage_pages and memcg_limit_pages are valid. */
#define OOM_MEMCG_USAGE	(1 << 2)

struct oom_event {
	hb_u64_exact victim_memcg_id;	/* kernfs id of the victim's memory cgroup (0: unknown) */
	hb_u64_exact victim_memcg_css;	/* its css address, as the original reports it */
	hb_u64_exact trigger_memcg_id;
	hb_u64_exact trigger_memcg_css;
	__u64 total_vm_kb;
	__u64 anon_rss_kb;
	__u64 file_rss_kb;
	__u64 shmem_rss_kb;
	__u64 pgtables_kb;
	__u64 memcg_usage_pages;	/* the victim's memory cgroup at the kill: usage and limit */
	__u64 memcg_limit_pages;
	__u32 flags;			/* OOM_VICTIM_* */
	__u32 victim_pid;		/* thread id */
	__u32 victim_tgid;
	__u32 victim_uid;
	__u32 trigger_pid;
	__u32 trigger_tgid;
	__s32 oom_score_adj;
	__u32 __pad;
	char victim_comm[16];
	char trigger_comm[16];
};

#endif /* OOM_H */
