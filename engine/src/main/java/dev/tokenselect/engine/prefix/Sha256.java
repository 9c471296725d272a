package dev.tokenselect.engine.prefix;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Length-prefixed, unambiguous feeding of a SHA-256 digest. */
final class Sha256 {

    private Sha256() {
    }

    static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    static void putInt(MessageDigest md, int v) {
        md.update((byte) (v >>> 24));
        md.update((byte) (v >>> 16));
        md.update((byte) (v >>> 8));
        md.update((byte) v);
    }

    static void putLong(MessageDigest md, long v) {
        putInt(md, (int) (v >>> 32));
        putInt(md, (int) v);
    }

    static void putString(MessageDigest md, String s) {
        byte[] b = (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
        putInt(md, b.length);
        md.update(b);
    }

    static byte[] of(String s) {
        MessageDigest md = newDigest();
        putString(md, s);
        return md.digest();
    }
}
