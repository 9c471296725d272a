package dev.tokenselect.engine.backend.cpu;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;

/**
 * A bf16 matrix read straight from the mapped weights file: each bf16 lane is widened to fp32 by
 * shifting its bits left by 16.
 */
final class Bf16Matrix extends Matrix {

    Bf16Matrix(String name, int rows, int cols, MemorySegment data) {
        super(name, rows, cols, data, 2);
    }

    @Override
    FloatVector load(long byteOffset) {
        return VectorMath.bf16(data, byteOffset);
    }

    @Override
    float loadScalar(long byteOffset) {
        return VectorMath.bf16Scalar(data, byteOffset);
    }
}
