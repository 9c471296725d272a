// Decode attention on tensor cores with each tile's K and V rows brought by bulk copies completing on
// an mbarrier (sm_90; decode_tc.cuh): one copy per row instead of D / 8 16-byte copies from every
// thread, for the L2 traffic of a long context's scan. Off unless -Dtokenselect.cuda.bulkDecodeCopies=true.
#include "decode_tc.cuh"

TCD_ENTRY(attn_decode_tc_bulk_d64, 64, false, true)
TCD_ENTRY(attn_decode_tc_bulk_d128, 128, false, true)
TCD_ENTRY(attn_decode_tc_f16_bulk_d64, 64, true, true)
TCD_ENTRY(attn_decode_tc_f16_bulk_d128, 128, true, true)
TCD_SEL_ENTRY(attn_decode_tc_sel_bulk_d64, 64, false, true)
TCD_SEL_ENTRY(attn_decode_tc_sel_bulk_d128, 128, false, true)
TCD_SEL_ENTRY(attn_decode_tc_sel_f16_bulk_d64, 64, true, true)
TCD_SEL_ENTRY(attn_decode_tc_sel_f16_bulk_d128, 128, true, true)
TCD_TMA_ENTRY(attn_decode_tc_tma_d128, false, TCD_TMA_PAGES, 128)
TCD_TMA_ENTRY(attn_decode_tc_f16_tma_d128, true, TCD_TMA_PAGES, 128)
TCD_TMA_ENTRY(attn_decode_tc_tma_ahead_d128, false, TCD_TMA_PAGES_AHEAD, 128)
TCD_TMA_ENTRY(attn_decode_tc_f16_tma_ahead_d128, true, TCD_TMA_PAGES_AHEAD, 128)
TCD_TMA_ENTRY(attn_decode_tc_tma_ws_d128, false, TCD_TMA_PAGES_WS, 160)
TCD_TMA_ENTRY(attn_decode_tc_f16_tma_ws_d128, true, TCD_TMA_PAGES_WS, 160)
TCD_TMA_ENTRY(attn_decode_tc_tma_eager_d128, false, TCD_TMA_PAGES_EAGER, 128)
TCD_TMA_ENTRY(attn_decode_tc_f16_tma_eager_d128, true, TCD_TMA_PAGES_EAGER, 128)
TCD_TMA_ENTRY(attn_decode_tc_tma_lean_d128, false, TCD_TMA_PAGES | TCD_LEAN, 128)
TCD_TMA_ENTRY(attn_decode_tc_f16_tma_lean_d128, true, TCD_TMA_PAGES | TCD_LEAN, 128)
TCD_TMA_ENTRY(attn_decode_tc_tma_ahead_lean_d128, false, TCD_TMA_PAGES_AHEAD | TCD_LEAN, 128)
TCD_TMA_ENTRY(attn_decode_tc_f16_tma_ahead_lean_d128, true, TCD_TMA_PAGES_AHEAD | TCD_LEAN, 128)
TCD_TMA_ENTRY(attn_decode_tc_tma_ws_lean_d128, false, TCD_TMA_PAGES_WS | TCD_LEAN, 160)
TCD_TMA_ENTRY(attn_decode_tc_f16_tma_ws_lean_d128, true, TCD_TMA_PAGES_WS | TCD_LEAN, 160)
