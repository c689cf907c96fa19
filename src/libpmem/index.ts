/**
 * libpmem: PMDK's libpmem, shaped for the emulator (the `daxemu/libpmem` entry). It owns
 * pmem_map_file and the flush, drain, persist, copy and set functions with their
 * PMEM_F_MEM_* flags, the choice of flush instruction made once at start (as PMDK's init
 * makes it), and the non-temporal threshold of its copies.
 *
 * May import: base, hw, dax, emulator.
 *
 * @module daxemu/libpmem
 */
export { pmemInit, Libpmem, type PmemHost, type PmemMappingLike, type PmemInitOptions, type PmemMap } from './libpmem.js';
export { choosePmemFuncs, PMEM_MOVNT_THRESHOLD, type PmemFuncs, type PmemFlushInstruction } from './init.js';
export { PMEM_F_MEM_NODRAIN, PMEM_F_MEM_NONTEMPORAL, PMEM_F_MEM_TEMPORAL, PMEM_F_MEM_WC, PMEM_F_MEM_WB, PMEM_F_MEM_NOFLUSH, PMEM_F_MEM_VALID_FLAGS, PMEM_FILE_CREATE, PMEM_FILE_EXCL, PMEM_FILE_SPARSE, PMEM_FILE_TMPFILE } from './flags.js';
