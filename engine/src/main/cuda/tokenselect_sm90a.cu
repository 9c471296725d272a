// The translation unit of the sm_90a module (build-fatbin.sh): the kernels on Hopper's warpgroup MMA
// and its bulk copies.
#include "wgmma.cu"
#include "flash_wgmma.cu"
#include "decode_tc_bulk.cu"
