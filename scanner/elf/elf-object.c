/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage 1 of `tightbox scan`: one ELF object through libelf/gelf. Reads the dynamic section
 * (DT_NEEDED, DT_SONAME, DT_RUNPATH, DT_RPATH), the imported symbols of .dynsym with the version
 * and file .gnu.version/.gnu.version_r give them, and, where asked, the places that enter the
 * kernel without a glibc wrapper:
 *  - calls to syscall(): the GOT slot of `syscall` comes from the relocations; a call is `call
 *    rel32` to the PLT stub that jumps through that slot (`jmp *slot(%rip)` in .plt or .plt.sec)
 *    or `call *slot(%rip)` (-fno-plt). The number is the immediate of the last `mov $imm32,%edi`
 *    in the 32 bytes before the call (syscall()'s first argument), else unknown.
 *  - inline `syscall` instructions (0f 05) in executable sections; the number is the immediate of
 *    the last `mov $imm32,%eax` / `mov $imm32,%rax` in the 16 bytes before it, else unknown.
 * Both are byte-pattern matches, not a disassembly: an unknown site can be two bytes inside a
 * longer instruction. docs/scan.md says so; `generate --static all` is the only consumer of the
 * numbers, and only of the known ones.
 */
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/strv.h"
#include "core/util.h"
#include "scanner/internal.h"

#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#define X86_SITES 1
#else
#define NATIVE_MACHINE EM_AARCH64
#define X86_SITES 0
#endif

struct verneed_ix {
	const char *file, *name;
};

struct reader {
	Elf *elf;
	struct tb_elf_info *out;
	uint64_t *slots; /* GOT slots of syscall() */
	size_t n_slots;
	uint64_t *stubs; /* PLT stubs that jump through them */
	size_t n_stubs;
};

void tb_elf_info_clear(struct tb_elf_info *e)
{
	if (!e)
		return;
	free(e->soname);
	free(e->runpath);
	free(e->rpath);
	tb_strv_free(e->needed);
	for (size_t i = 0; i < e->n_imports; i++) {
		free(e->imports[i].name);
		free(e->imports[i].version);
		free(e->imports[i].file);
	}
	free(e->imports);
	tb_strv_free(e->defined);
	free(e->calls);
	free(e->inlines);
	memset(e, 0, sizeof(*e));
}

static void elf_endp(Elf **e)
{
	if (*e)
		elf_end(*e);
}

static int dup_str(char **dst, const char *s)
{
	*dst = s ? strdup(s) : NULL;
	return s && !*dst ? -ENOMEM : 0;
}

static int read_dynamic(struct reader *rd, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	int r = 0;

	for (size_t i = 0; d && i < n && r == 0; i++) {
		GElf_Dyn dyn;
		const char *s;

		if (!gelf_getdyn(d, (int)i, &dyn))
			break;
		if (dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_SONAME && dyn.d_tag != DT_RUNPATH &&
		    dyn.d_tag != DT_RPATH)
			continue;
		s = elf_strptr(rd->elf, sh->sh_link, dyn.d_un.d_val);
		if (!s)
			continue;
		if (dyn.d_tag == DT_NEEDED)
			r = tb_strv_add(&rd->out->needed, s);
		else if (dyn.d_tag == DT_SONAME && !rd->out->soname)
			r = dup_str(&rd->out->soname, s);
		else if (dyn.d_tag == DT_RUNPATH && !rd->out->runpath)
			r = dup_str(&rd->out->runpath, s);
		else if (dyn.d_tag == DT_RPATH && !rd->out->rpath)
			r = dup_str(&rd->out->rpath, s);
	}
	return r;
}

/* Version index -> (file, version) from .gnu.version_r. */
static int read_verneed(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, struct verneed_ix **out,
			size_t *n_out)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	struct verneed_ix *ix = NULL;
	size_t n_ix = 0, off = 0;

	for (size_t k = 0; d && k < sh->sh_info; k++) {
		GElf_Verneed vn;
		size_t aoff;

		if (!gelf_getverneed(d, (int)off, &vn))
			break;
		aoff = off + vn.vn_aux;
		for (size_t a = 0; a < vn.vn_cnt; a++) {
			GElf_Vernaux va;
			size_t idx;

			if (!gelf_getvernaux(d, (int)aoff, &va))
				break;
			idx = va.vna_other & 0x7fff;
			if (idx >= n_ix) {
				struct verneed_ix *nx = realloc(ix, (idx + 1) * sizeof(*nx));

				if (!nx) {
					free(ix);
					return -ENOMEM;
				}
				memset(nx + n_ix, 0, (idx + 1 - n_ix) * sizeof(*nx));
				ix = nx;
				n_ix = idx + 1;
			}
			ix[idx].file = elf_strptr(elf, sh->sh_link, vn.vn_file);
			ix[idx].name = elf_strptr(elf, sh->sh_link, va.vna_name);
			if (!va.vna_next)
				break;
			aoff += va.vna_next;
		}
		if (!vn.vn_next)
			break;
		off += vn.vn_next;
	}
	*out = ix;
	*n_out = n_ix;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_symbols(struct reader *rd, Elf_Scn *dynsym, const GElf_Shdr *sh, Elf_Data *versym,
			const struct verneed_ix *ix, size_t n_ix, bool want_defined)
{
	Elf_Data *d = elf_getdata(dynsym, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0, n_def = 0;
	struct tb_elf_info *o = rd->out;

	o->imports = calloc(n ? n : 1, sizeof(*o->imports));
	if (!o->imports)
		return -ENOMEM;
	if (want_defined) {
		o->defined = calloc(n + 1, sizeof(*o->defined));
		if (!o->defined)
			return -ENOMEM;
	}
	for (size_t i = 1; d && i < n; i++) {
		GElf_Sym sym;
		GElf_Versym vs = 0;
		const char *name;
		int type, bind;

		if (!gelf_getsym(d, (int)i, &sym))
			break;
		name = elf_strptr(rd->elf, sh->sh_link, sym.st_name);
		type = GELF_ST_TYPE(sym.st_info);
		bind = GELF_ST_BIND(sym.st_info);
		if (!name || !*name || (bind != STB_GLOBAL && bind != STB_WEAK))
			continue;
		if (type != STT_FUNC && type != STT_NOTYPE && type != STT_GNU_IFUNC)
			continue;
		if (sym.st_shndx != SHN_UNDEF) {
			if (want_defined && type != STT_NOTYPE) {
				o->defined[n_def] = strdup(name);
				if (!o->defined[n_def++])
					return -ENOMEM;
			}
			continue;
		}
		if (versym)
			gelf_getversym(versym, (int)i, &vs);
		vs &= 0x7fff;
		struct tb_elf_import *im = &o->imports[o->n_imports++];

		im->name = strdup(name);
		if (!im->name)
			return -ENOMEM;
		if (vs > 1 && vs < n_ix && ix[vs].name && ix[vs].file) {
			im->version = strdup(ix[vs].name);
			im->file = strdup(ix[vs].file);
			if (!im->version || !im->file)
				return -ENOMEM;
		}
	}
	if (want_defined && n_def)
		qsort(o->defined, n_def, sizeof(*o->defined), cmp_str);
	return 0;
}

static bool u64_in(const uint64_t *v, size_t n, uint64_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static int u64_add(uint64_t **v, size_t *n, uint64_t x)
{
	uint64_t *nv;

	if (u64_in(*v, *n, x))
		return 0;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = x;
	*v = nv;
	return 0;
}

/* GOT slots of `syscall` from .rela.plt (JUMP_SLOT) and .rela.dyn (GLOB_DAT). */
static int read_relocs(struct reader *rd, Elf_Scn *scn, const GElf_Shdr *sh, Elf_Scn *dynsym,
		       const GElf_Shdr *dsh)
{
	Elf_Data *d = elf_getdata(scn, NULL), *sd = elf_getdata(dynsym, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	for (size_t i = 0; d && sd && i < n; i++) {
		GElf_Rela rela;
		GElf_Sym sym;
		const char *name;

		if (!gelf_getrela(d, (int)i, &rela))
			break;
		if (!GELF_R_SYM(rela.r_info) ||
		    !gelf_getsym(sd, (int)GELF_R_SYM(rela.r_info), &sym))
			continue;
		name = elf_strptr(rd->elf, dsh->sh_link, sym.st_name);
		if (name && !strcmp(name, "syscall") && sym.st_shndx == SHN_UNDEF &&
		    u64_add(&rd->slots, &rd->n_slots, rela.r_offset) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int32_t rel32(const unsigned char *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* PLT entries (16 bytes each) whose `jmp *rel32(%rip)` goes through a syscall() slot. */
static int read_plt(struct reader *rd, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	const unsigned char *b = d ? d->d_buf : NULL;
	size_t n = d ? d->d_size : 0;

	for (size_t i = 0; b && i + 6 <= n; i++) {
		uint64_t target;

		if (b[i] != 0xff || b[i + 1] != 0x25)
			continue;
		target = sh->sh_addr + i + 6 + (int64_t)rel32(b + i + 2);
		if (u64_in(rd->slots, rd->n_slots, target) &&
		    u64_add(&rd->stubs, &rd->n_stubs, sh->sh_addr + (i - i % 16)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int add_site(struct tb_scan_site **v, size_t *n, uint64_t addr, int nr)
{
	struct tb_scan_site *nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = (struct tb_scan_site){.addr = addr, .nr = nr};
	*v = nv;
	return 0;
}

/* The immediate of the last `mov $imm32, <reg>` (@op, optionally after @rex) in [lo, at). */
static int last_mov_imm(const unsigned char *b, size_t lo, size_t at, unsigned char op, bool rax)
{
	for (size_t k = at; k-- > lo;) {
		int32_t v;

		if (k + 5 <= at && b[k] == op) {
			v = rel32(b + k + 1);
			return v >= 0 && v < 1024 ? v : -1;
		}
		/* mov $imm32, %rax: 48 c7 c0 imm32 */
		if (rax && k + 7 <= at && b[k] == 0x48 && b[k + 1] == 0xc7 && b[k + 2] == 0xc0) {
			v = rel32(b + k + 3);
			return v >= 0 && v < 1024 ? v : -1;
		}
	}
	return -1;
}

static int scan_code(struct reader *rd, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	const unsigned char *b = d ? d->d_buf : NULL;
	size_t n = d ? d->d_size : 0;
	int r = 0;

	for (size_t i = 0; b && i + 2 <= n && r == 0; i++) {
		if (b[i] == 0x0f && b[i + 1] == 0x05) {
			r = add_site(&rd->out->inlines, &rd->out->n_inlines, sh->sh_addr + i,
				     last_mov_imm(b, i > 16 ? i - 16 : 0, i, 0xb8, true));
			continue;
		}
		if (!rd->n_slots || i + 5 > n)
			continue;
		/* call rel32 to a syscall() PLT stub, or call *slot(%rip) through its GOT slot. */
		if ((b[i] == 0xe8 && rd->n_stubs &&
		     u64_in(rd->stubs, rd->n_stubs,
			    sh->sh_addr + i + 5 + (int64_t)rel32(b + i + 1))) ||
		    (b[i] == 0xff && i + 6 <= n && b[i + 1] == 0x15 &&
		     u64_in(rd->slots, rd->n_slots, sh->sh_addr + i + 6 + (int64_t)rel32(b + i + 2))))
			r = add_site(&rd->out->calls, &rd->out->n_calls, sh->sh_addr + i,
				     last_mov_imm(b, i > 32 ? i - 32 : 0, i, 0xbf, false));
	}
	return r;
}

static bool is_plt(const char *name)
{
	return name &&
	       (!strcmp(name, ".plt") || !strcmp(name, ".plt.sec") || !strcmp(name, ".plt.got"));
}

int tb_elf_read(const char *path, bool want_defined, bool want_sites, struct tb_elf_info *out,
		struct tb_diag *diag)
{
	__attribute__((cleanup(elf_endp))) Elf *elf = NULL;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ struct verneed_ix *ix = NULL;
	struct tb_elf_info info = {0};
	struct reader rd = {.out = &info};
	Elf_Scn *dynsym = NULL, *scn = NULL;
	Elf_Data *versym = NULL;
	GElf_Shdr dsh = {0};
	GElf_Ehdr eh;
	size_t n_ix = 0, shstrndx, nph = 0;
	int r = 0;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		tb_diag_set(diag, path, 0, 0, NULL, "libelf: %s", elf_errmsg(-1));
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = tb_negerrno();
		tb_diag_set(diag, path, 0, 0, NULL, "cannot open: %s", strerror(-r));
		return r;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		tb_diag_set(diag, path, 0, 0, NULL, "not an ELF file");
		return -EINVAL;
	}
	if (gelf_getclass(elf) != ELFCLASS64 || eh.e_machine != NATIVE_MACHINE) {
		tb_diag_set(diag, path, 0, 0, NULL,
			    "not an ELF object of this machine (class %d, machine %u)",
			    gelf_getclass(elf), eh.e_machine);
		return -EINVAL;
	}
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		tb_diag_set(diag, path, 0, 0, NULL, "not an executable or shared object");
		return -EINVAL;
	}
	rd.elf = elf;
	info.executable = eh.e_type == ET_EXEC;
	if (elf_getphdrnum(elf, &nph) == 0)
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_INTERP)
				info.executable = true;
		}
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		shstrndx = 0;
	/* First pass: dynamic section, symbols and their versions. */
	while ((scn = elf_nextscn(elf, scn)) && r == 0) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_DYNAMIC)
			r = read_dynamic(&rd, scn, &sh);
		else if (sh.sh_type == SHT_DYNSYM)
			dynsym = scn, dsh = sh;
		else if (sh.sh_type == SHT_GNU_versym)
			versym = elf_getdata(scn, NULL);
		else if (sh.sh_type == SHT_GNU_verneed)
			r = read_verneed(elf, scn, &sh, &ix, &n_ix);
	}
	if (r == 0 && dynsym)
		r = read_symbols(&rd, dynsym, &dsh, versym, ix, n_ix, want_defined);
	/* Second pass: where syscall() is called, and inline syscall instructions. */
	for (int pass = 0; X86_SITES && want_sites && r == 0 && pass < 3; pass++) {
		scn = NULL;
		while ((scn = elf_nextscn(elf, scn)) && r == 0) {
			GElf_Shdr sh;
			const char *name;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
				continue;
			name = shstrndx ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
			if (pass == 0 && sh.sh_type == SHT_RELA && dynsym &&
			    sh.sh_link == elf_ndxscn(dynsym))
				r = read_relocs(&rd, scn, &sh, dynsym, &dsh);
			else if (pass == 1 && rd.n_slots && is_plt(name))
				r = read_plt(&rd, scn, &sh);
			else if (pass == 2 && (sh.sh_flags & SHF_EXECINSTR) && !is_plt(name))
				r = scan_code(&rd, scn, &sh);
		}
	}
	free(rd.slots);
	free(rd.stubs);
	if (r < 0) {
		tb_elf_info_clear(&info);
		tb_diag_set(diag, path, 0, 0, NULL, "reading the ELF file failed: %s",
			    strerror(-r));
		return r;
	}
	*out = info;
	return 0;
}
