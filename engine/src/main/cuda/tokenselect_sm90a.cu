// The translation unit of the sm_90a module (build-fatbin.sh): the kernels on Hopper's warpgroup MMA.
#include "wgmma.cu"
#include "flash_wgmma.cu"
