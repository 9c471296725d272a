// The one translation unit nvcc compiles into target/classes/cuda/tokenselect.fatbin: every op
// family lives in its own file and is included here (one compile keeps the 2-core build fast).
#include "elementwise.cu"
#include "norm.cu"
#include "gemv.cu"
#include "gemm.cu"
#include "rope_kv.cu"
#include "attention.cu"
#include "select.cu"
#include "sample.cu"
#include "decode.cu"
