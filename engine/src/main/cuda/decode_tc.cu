// Entry points of decode attention on tensor cores (decode_tc.cuh); the bulk-copy variants are in
// decode_tc_bulk.cu (sm_90a module).
#include "decode_tc.cuh"

TCD_ENTRY(attn_decode_tc_d64, 64, false, false)
TCD_ENTRY(attn_decode_tc_d128, 128, false, false)
TCD_ENTRY(attn_decode_tc_f16_d64, 64, true, false)
TCD_ENTRY(attn_decode_tc_f16_d128, 128, true, false)
TCD_SEL_ENTRY(attn_decode_tc_sel_d64, 64, false, false)
TCD_SEL_ENTRY(attn_decode_tc_sel_d128, 128, false, false)
TCD_SEL_ENTRY(attn_decode_tc_sel_f16_d64, 64, true, false)
TCD_SEL_ENTRY(attn_decode_tc_sel_f16_d128, 128, true, false)
