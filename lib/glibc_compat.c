// SPDX-License-Identifier: Apache-2.0
/*
 * Keeps the library loadable on old glibc (Bun itself needs only 2.17): the build renames these
 * references inside the static archives, compiled against the build host's newer glibc, to here.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define GLIBC_BASE "GLIBC_2.17"
#endif

/* libbpf's default printer writes to stderr; ours replaces it, this only satisfies the reference */
FILE *compat_stderr;

__attribute__((constructor)) static void compat_init(void)
{
	compat_stderr = stderr;
}

/* fstat became a real symbol in glibc 2.33 (before, an inline over __fxstat) */
int compat_fstat(int fd, struct stat *st)
{
	return syscall(SYS_fstat, fd, st);
}

/* fmemopen@GLIBC_2.22 changed only edge cases libbpf (reading a kconfig string) does not use */
#ifdef GLIBC_BASE
FILE *fmemopen_base(void *buf, size_t size, const char *mode);
__asm__(".symver fmemopen_base, fmemopen@" GLIBC_BASE);
#define fmemopen fmemopen_base
#endif

FILE *compat_fmemopen(void *buf, size_t size, const char *mode)
{
	return fmemopen(buf, size, mode);
}
