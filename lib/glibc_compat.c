// SPDX-License-Identifier: Apache-2.0
/*
 * Keeps the library loadable on old glibc (Bun itself needs only 2.17): the build renames these
 * references inside the static archives, compiled against the build host's newer glibc, to here.
 */
#include <pthread.h>
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

/*
 * pthread_create and pthread_join moved from libpthread into libc in glibc 2.34 (new default version
 * GLIBC_2.34); their base versions stay defined in both, and older glibc resolves them in the
 * libpthread.so.0 that Bun itself links.
 */
#ifdef GLIBC_BASE
int pthread_create_base(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
			void *arg);
int pthread_join_base(pthread_t thread, void **ret);
__asm__(".symver pthread_create_base, pthread_create@" GLIBC_BASE);
__asm__(".symver pthread_join_base, pthread_join@" GLIBC_BASE);
#define pthread_create pthread_create_base
#define pthread_join pthread_join_base
#endif

int compat_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg)
{
	return pthread_create(thread, attr, fn, arg);
}

int compat_pthread_join(pthread_t thread, void **ret)
{
	return pthread_join(thread, ret);
}
