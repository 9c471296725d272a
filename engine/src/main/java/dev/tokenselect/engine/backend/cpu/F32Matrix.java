package dev.tokenselect.engine.backend.cpu;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;

/**
 * An fp32 matrix: mapped from an f32 weights file, or converted at load from f16 (see {@link Matrix}).
 */
final class F32Matrix extends Matrix {

    F32Matrix(String name, int rows, int cols, MemorySegment data) {
        super(name, rows, cols, data, 4);
    }

    @Override
    FloatVector load(long byteOffset) {
        return VectorMath.f32(data, byteOffset);
    }

    @Override
    float loadScalar(long byteOffset) {
        return VectorMath.f32Scalar(data, byteOffset);
    }
}
