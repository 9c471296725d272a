package dev.tokenselect.engine.template;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;

/**
 * Python's arithmetic operators. bool counts as int, int/int stays int (growing to BigInteger instead of
 * overflowing), {@code /} is always float, {@code //} and {@code %} floor towards negative infinity, and {@code +}
 * and {@code *} also work on str, list and tuple.
 */
final class PyOps {

    private PyOps() {
    }

    private static boolean small(Object v) {
        return v instanceof Long || v instanceof Boolean;
    }

    static long smallValue(Object v) {
        return v instanceof Boolean b ? (b ? 1 : 0) : (Long) v;
    }

    static BigInteger big(Object v) {
        return v instanceof BigInteger b ? b : BigInteger.valueOf(smallValue(v));
    }

    static double toDouble(Object v) {
        if (v instanceof Double d) {
            return d;
        }
        if (v instanceof BigInteger b) {
            double d = b.doubleValue();
            if (Double.isInfinite(d)) {
                throw new PyError("OverflowError", "int too large to convert to float");
            }
            return d;
        }
        return smallValue(v);
    }

    /** An int used as an index, saturated so that huge values simply fall outside any sequence. */
    static long toLongIndex(Object v) {
        if (v instanceof BigInteger b) {
            return b.signum() < 0 ? Long.MIN_VALUE / 2 : Long.MAX_VALUE / 2;
        }
        return smallValue(v);
    }

    /** Exact three-way comparison of two Python numbers (int vs float compared exactly, like CPython). */
    static int compareNumbers(Object a, Object b) {
        if (small(a) && small(b)) {
            return Long.compare(smallValue(a), smallValue(b));
        }
        if (!(a instanceof Double) && !(b instanceof Double)) {
            return big(a).compareTo(big(b));
        }
        double da = a instanceof Double d ? d : Double.NaN;
        double db = b instanceof Double d ? d : Double.NaN;
        if (a instanceof Double && b instanceof Double) {
            return Double.compare(da == 0 ? 0.0 : da, db == 0 ? 0.0 : db);
        }
        // One int, one float: infinities dominate, otherwise compare exact decimal expansions.
        double f = a instanceof Double ? da : db;
        int sign = a instanceof Double ? 1 : -1;
        if (Double.isNaN(f)) {
            return 1;
        }
        if (Double.isInfinite(f)) {
            return sign * (f > 0 ? 1 : -1);
        }
        BigDecimal fd = new BigDecimal(f);
        BigDecimal id = new BigDecimal(big(a instanceof Double ? b : a));
        return sign * fd.compareTo(id);
    }

    private static PyError unsupported(String op, Object a, Object b) {
        return PyError.type("unsupported operand type(s) for " + op + ": '" + PyValues.typeName(a) + "' and '"
                + PyValues.typeName(b) + "'");
    }

    private static void checkDefined(Object a, Object b) {
        if (a instanceof Undefined u) {
            throw u.fail();
        }
        if (b instanceof Undefined u) {
            throw u.fail();
        }
    }

    static Object binary(String op, Object a, Object b) {
        if (op.equals("%") && a instanceof String format) {
            return PyFormat.percent(format, b); // str.__mod__ runs first, even when the argument is Undefined
        }
        checkDefined(a, b);
        return switch (op) {
            case "+" -> add(a, b);
            case "-" -> subtract(a, b);
            case "*" -> multiply(a, b);
            case "/" -> trueDivide(a, b);
            case "//" -> floorDivide(a, b);
            case "%" -> modulo(a, b);
            case "**" -> power(a, b);
            default -> throw new IllegalStateException(op);
        };
    }

    static Object add(Object a, Object b) {
        if (PyValues.isNumber(a) && PyValues.isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) + toDouble(b);
            }
            if (small(a) && small(b)) {
                try {
                    return Math.addExact(smallValue(a), smallValue(b));
                } catch (ArithmeticException overflow) {
                    // fall through to arbitrary precision
                }
            }
            return PyValues.normalizeInt(big(a).add(big(b)));
        }
        if (a instanceof String sa && b instanceof String sb) {
            return sa + sb;
        }
        if (a instanceof List<?> la && b instanceof List<?> lb && PyValues.sequenceKind(a) == PyValues.sequenceKind(b)
                && !(a instanceof PyRange)) {
            List<Object> out = new ArrayList<>(la);
            out.addAll(lb);
            return a instanceof PyTuple ? new PyTuple(out) : out;
        }
        if (a instanceof String) {
            throw PyError.type("can only concatenate str (not \"" + PyValues.typeName(b) + "\") to str");
        }
        if (a instanceof List<?> && !(a instanceof PyTuple)) {
            throw PyError.type("can only concatenate list (not \"" + PyValues.typeName(b) + "\") to list");
        }
        throw unsupported("+", a, b);
    }

    static Object subtract(Object a, Object b) {
        if (!PyValues.isNumber(a) || !PyValues.isNumber(b)) {
            throw unsupported("-", a, b);
        }
        if (a instanceof Double || b instanceof Double) {
            return toDouble(a) - toDouble(b);
        }
        if (small(a) && small(b)) {
            try {
                return Math.subtractExact(smallValue(a), smallValue(b));
            } catch (ArithmeticException overflow) {
                // fall through
            }
        }
        return PyValues.normalizeInt(big(a).subtract(big(b)));
    }

    static Object multiply(Object a, Object b) {
        if (PyValues.isNumber(a) && PyValues.isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) * toDouble(b);
            }
            if (small(a) && small(b)) {
                try {
                    return Math.multiplyExact(smallValue(a), smallValue(b));
                } catch (ArithmeticException overflow) {
                    // fall through
                }
            }
            return PyValues.normalizeInt(big(a).multiply(big(b)));
        }
        if (PyValues.isInt(a) && !PyValues.isNumber(b)) {
            return repeat(b, a);
        }
        if (PyValues.isInt(b)) {
            return repeat(a, b);
        }
        throw PyError.type("can't multiply sequence by non-int of type '" + PyValues.typeName(b) + "'");
    }

    private static Object repeat(Object sequence, Object times) {
        long n = Math.max(0, toLongIndex(times));
        if (sequence instanceof String s) {
            if (n * (long) s.length() > Integer.MAX_VALUE - 16) {
                throw new PyError("MemoryError", "repeated string is too large");
            }
            return s.repeat((int) n);
        }
        if (sequence instanceof List<?> list && !(sequence instanceof PyRange)) {
            if (n * (long) list.size() > Integer.MAX_VALUE - 16) {
                throw new PyError("MemoryError", "repeated list is too large");
            }
            List<Object> out = new ArrayList<>();
            for (long i = 0; i < n; i++) {
                out.addAll(list);
            }
            return sequence instanceof PyTuple ? new PyTuple(out) : out;
        }
        throw PyError.type("can't multiply sequence by non-int of type '" + PyValues.typeName(times) + "'");
    }

    static Object trueDivide(Object a, Object b) {
        if (!PyValues.isNumber(a) || !PyValues.isNumber(b)) {
            throw unsupported("/", a, b);
        }
        if (a instanceof Double || b instanceof Double) {
            double divisor = toDouble(b);
            if (divisor == 0) {
                throw new PyError("ZeroDivisionError", "float division by zero");
            }
            return toDouble(a) / divisor;
        }
        BigInteger divisor = big(b);
        if (divisor.signum() == 0) {
            throw new PyError("ZeroDivisionError", "division by zero");
        }
        BigInteger dividend = big(a);
        if (dividend.bitLength() <= 53 && divisor.bitLength() <= 53) {
            return (double) dividend.longValue() / (double) divisor.longValue(); // both exact, so correctly rounded
        }
        return new BigDecimal(dividend).divide(new BigDecimal(divisor), MathContext.DECIMAL128).doubleValue();
    }

    static Object floorDivide(Object a, Object b) {
        if (!PyValues.isNumber(a) || !PyValues.isNumber(b)) {
            throw unsupported("//", a, b);
        }
        if (a instanceof Double || b instanceof Double) {
            return floatDivmod(toDouble(a), toDouble(b))[0];
        }
        BigInteger divisor = big(b);
        if (divisor.signum() == 0) {
            throw new PyError("ZeroDivisionError", "integer division or modulo by zero");
        }
        BigInteger[] qr = big(a).divideAndRemainder(divisor);
        BigInteger q = qr[0];
        if (qr[1].signum() != 0 && qr[1].signum() != divisor.signum()) {
            q = q.subtract(BigInteger.ONE);
        }
        return PyValues.normalizeInt(q);
    }

    static Object modulo(Object a, Object b) {
        if (a instanceof String format) {
            return PyFormat.percent(format, b);
        }
        if (!PyValues.isNumber(a) || !PyValues.isNumber(b)) {
            throw unsupported("%", a, b);
        }
        if (a instanceof Double || b instanceof Double) {
            return floatDivmod(toDouble(a), toDouble(b))[1];
        }
        BigInteger divisor = big(b);
        if (divisor.signum() == 0) {
            throw new PyError("ZeroDivisionError", "integer division or modulo by zero");
        }
        BigInteger r = big(a).mod(divisor.abs());
        if (divisor.signum() < 0 && r.signum() != 0) {
            r = r.add(divisor);
        }
        return PyValues.normalizeInt(r);
    }

    /** CPython's float_divmod: {floor quotient, remainder with the divisor's sign}. */
    private static double[] floatDivmod(double vx, double wx) {
        if (wx == 0) {
            throw new PyError("ZeroDivisionError", "float divmod()");
        }
        double mod = vx % wx; // Java's % is C fmod
        double div = (vx - mod) / wx;
        if (mod != 0) {
            if ((wx < 0) != (mod < 0)) {
                mod += wx;
                div -= 1.0;
            }
        } else {
            mod = Math.copySign(0.0, wx);
        }
        double floordiv;
        if (div != 0) {
            floordiv = Math.floor(div);
            if (div - floordiv > 0.5) {
                floordiv += 1.0;
            }
        } else {
            floordiv = Math.copySign(0.0, vx / wx);
        }
        return new double[] {floordiv, mod};
    }

    static Object power(Object a, Object b) {
        if (!PyValues.isNumber(a) || !PyValues.isNumber(b)) {
            throw unsupported("** or pow()", a, b);
        }
        if (PyValues.isInt(a) && PyValues.isInt(b)) {
            BigInteger exponent = big(b);
            if (exponent.signum() >= 0) {
                BigInteger base = big(a);
                if (base.abs().compareTo(BigInteger.ONE) <= 0) {
                    return PyValues.normalizeInt(base.pow(exponent.testBit(0) ? 1 : exponent.signum() == 0 ? 0 : 2));
                }
                if (exponent.bitLength() > 31 || (long) base.bitLength() * exponent.longValue() > 1_000_000) {
                    throw new PyError("OverflowError", "integer power result is too large");
                }
                return PyValues.normalizeInt(base.pow(exponent.intValue()));
            }
            if (big(a).signum() == 0) {
                throw new PyError("ZeroDivisionError", "0.0 cannot be raised to a negative power");
            }
        }
        double x = toDouble(a);
        double y = toDouble(b);
        if (x == 0 && y < 0) {
            throw new PyError("ZeroDivisionError", "0.0 cannot be raised to a negative power");
        }
        if (x < 0 && y != Math.rint(y) && Double.isFinite(y)) {
            throw PyError.value("negative number cannot be raised to a fractional power (complex result)");
        }
        double result = Math.pow(x, y);
        if (Double.isInfinite(result) && Double.isFinite(x) && Double.isFinite(y)) {
            throw new PyError("OverflowError", "(34, 'Numerical result out of range')");
        }
        return result;
    }

    static Object negate(Object v) {
        if (v instanceof Undefined u) {
            throw u.fail();
        }
        if (v instanceof Double d) {
            return -d;
        }
        if (small(v)) {
            long x = smallValue(v);
            return x == Long.MIN_VALUE ? BigInteger.valueOf(x).negate() : (Object) (-x);
        }
        if (v instanceof BigInteger b) {
            return PyValues.normalizeInt(b.negate());
        }
        throw PyError.type("bad operand type for unary -: '" + PyValues.typeName(v) + "'");
    }

    static Object plus(Object v) {
        if (v instanceof Undefined u) {
            throw u.fail();
        }
        if (v instanceof Boolean b) {
            return b ? 1L : 0L;
        }
        if (PyValues.isNumber(v)) {
            return v;
        }
        throw PyError.type("bad operand type for unary +: '" + PyValues.typeName(v) + "'");
    }
}
