/** Numeric kernels shared by the CPU backend and the selection policies. */
package dev.tokenselect.engine.math;
