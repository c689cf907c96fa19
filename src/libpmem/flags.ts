/**
 * libpmem's flag values, as libpmem.h defines them: the PMEM_F_MEM_* flags of
 * pmem_memmove/memcpy/memset and the PMEM_FILE_* flags of pmem_map_file.
 */
export const PMEM_F_MEM_NODRAIN = 1 << 0;
export const PMEM_F_MEM_NONTEMPORAL = 1 << 1;
export const PMEM_F_MEM_TEMPORAL = 1 << 2;
export const PMEM_F_MEM_WC = 1 << 3;
export const PMEM_F_MEM_WB = 1 << 4;
export const PMEM_F_MEM_NOFLUSH = 1 << 5;
export const PMEM_F_MEM_VALID_FLAGS = PMEM_F_MEM_NODRAIN | PMEM_F_MEM_NONTEMPORAL | PMEM_F_MEM_TEMPORAL | PMEM_F_MEM_WC | PMEM_F_MEM_WB | PMEM_F_MEM_NOFLUSH;

export const PMEM_FILE_CREATE = 1 << 0;
export const PMEM_FILE_EXCL = 1 << 1;
export const PMEM_FILE_SPARSE = 1 << 2;
export const PMEM_FILE_TMPFILE = 1 << 3;
export const PMEM_FILE_ALL_FLAGS = PMEM_FILE_CREATE | PMEM_FILE_EXCL | PMEM_FILE_SPARSE | PMEM_FILE_TMPFILE;
