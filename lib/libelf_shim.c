// SPDX-License-Identifier: Apache-2.0
/*
 * Replaces elf_error.o of Debian's libelf.a, whose thread-local error slot uses the local-exec TLS
 * model (R_X86_64_TPOFF32, built with -fPIE) that a shared object cannot contain. The rest of the
 * archive links fine. Messages are generic: libbpf only prints them inside its own warnings.
 */
#include <stdio.h>

static __thread int last_error;
static __thread char message[32];

void __libelf_seterrno(int value)
{
	last_error = value;
}

int elf_errno(void)
{
	int err = last_error;

	last_error = 0;
	return err;
}

const char *elf_errmsg(int error)
{
	int err = error == 0 || error == -1 ? last_error : error;

	if (error == 0 && !err)
		return NULL;
	snprintf(message, sizeof(message), "libelf error %d", err);
	return message;
}
