package dev.tokenselect.spring.autoconfigure;

import java.nio.file.Path;

import org.springframework.boot.context.properties.ConfigurationProperties;

/** The engine: which model, where it runs, how much KV cache it holds, and its default attention. */
@ConfigurationProperties(TokenSelectProperties.PREFIX)
public class TokenSelectProperties {

    public static final String PREFIX = "spring.ai.tokenselect";

    /** A model directory (Hugging Face layout) or a Hugging Face repo id such as Qwen/Qwen3-0.6B. */
    private String model;

    /** Branch, tag or commit of a repo id; main when unset. */
    private String revision;

    /** auto (the GPU where there is one and the build has kernels, else the CPU), cuda or cpu. */
    private String backend = "auto";

    /** GPU ordinal for the CUDA backend. */
    private int device;

    /** CPU worker threads; 0 for all cores. */
    private int threads;

    /** Share of the GPU memory left after the weights that the KV cache takes (CUDA), when kv-capacity-tokens is 0. */
    private double kvMemoryFraction = 0.9;

    /**
     * Score TokenSelect's candidates on int8 sketches of their keys (keys=int8), which the CUDA backend's
     * KV pool keeps beside the keys: a selection reads half the bytes, the pool holds about a fifth fewer tokens.
     */
    private boolean keySketches;

    /**
     * GiB of pinned host memory the CUDA backend's KV pool extends into past the GPU's (0: none); its
     * blocks are read over the bus, so it suits TokenSelect with key-sketches.
     */
    private double kvHostGib;

    /** Tokens the KV cache holds over all requests and corpora; 0 for the backend's default. */
    private long kvCapacityTokens;

    /** Tokens per KV block. */
    private int blockSize = 32;

    /** Where persisted KV segments (and, without a DataSource, their catalog) live. */
    private Path cacheDir = Path.of(System.getProperty("user.home"), ".cache", "tokenselect");

    private final Persistence persistence = new Persistence();

    /** Default attention: full, tokenselect, streaming (sinks and window) or page. */
    private String policy = "tokenselect";

    /** TokenSelect's selection budget: cached tokens chosen per layer besides sinks and window. */
    private int k = 2048;

    /** Attention-sink tokens always attended. */
    private int nInit = 128;

    /** Most recent tokens always attended. */
    private int nLocal = 512;

    /** Selection-cache threshold; above 1 turns the cache off. */
    private double theta = 0.9;

    /** Tokens per page of the page policy. */
    private int pageSize = 16;

    /** Prompt tokens per forward pass (with a selection policy, at most n-local). */
    private int prefillChunk = 512;

    /** Most requests decoded together; more wait in the queue. */
    private int maxBatch = 8;

    /**
     * Which chat turn holds a corpus: system (the system message, the conversation after it) or user (the start of
     * the first user message, whose question ends it).
     */
    private String corpusTurn = "system";

    /**
     * Host memory in bytes that keeps prefix blocks evicted from the KV pool, between the pool and the
     * disk: -1 for the default (4 GiB under a GPU pool, none under the CPU pool), 0 for none.
     */
    private long hostCacheBytes = -1;

    public static class Persistence {

        /** Persist corpora (and restore them after a restart) under cache-dir, catalogued in the DataSource when there is one. */
        private boolean enabled = true;

        /** Size limit of the persisted segments; the least recently used unpinned ones go first. */
        private long maxBytes = Long.MAX_VALUE;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public long getMaxBytes() {
            return maxBytes;
        }

        public void setMaxBytes(long maxBytes) {
            this.maxBytes = maxBytes;
        }
    }

    public String getModel() {
        return model;
    }

    public void setModel(String model) {
        this.model = model;
    }

    public String getRevision() {
        return revision;
    }

    public void setRevision(String revision) {
        this.revision = revision;
    }

    public String getBackend() {
        return backend;
    }

    public void setBackend(String backend) {
        this.backend = backend;
    }

    public int getDevice() {
        return device;
    }

    public void setDevice(int device) {
        this.device = device;
    }

    public int getThreads() {
        return threads;
    }

    public void setThreads(int threads) {
        this.threads = threads;
    }

    public double getKvMemoryFraction() {
        return kvMemoryFraction;
    }

    public void setKvMemoryFraction(double kvMemoryFraction) {
        this.kvMemoryFraction = kvMemoryFraction;
    }

    public boolean isKeySketches() {
        return keySketches;
    }

    public void setKeySketches(boolean keySketches) {
        this.keySketches = keySketches;
    }

    public double getKvHostGib() {
        return kvHostGib;
    }

    public void setKvHostGib(double kvHostGib) {
        this.kvHostGib = kvHostGib;
    }

    public long getKvCapacityTokens() {
        return kvCapacityTokens;
    }

    public void setKvCapacityTokens(long kvCapacityTokens) {
        this.kvCapacityTokens = kvCapacityTokens;
    }

    public int getBlockSize() {
        return blockSize;
    }

    public void setBlockSize(int blockSize) {
        this.blockSize = blockSize;
    }

    public Path getCacheDir() {
        return cacheDir;
    }

    public void setCacheDir(Path cacheDir) {
        this.cacheDir = cacheDir;
    }

    public Persistence getPersistence() {
        return persistence;
    }

    public String getPolicy() {
        return policy;
    }

    public void setPolicy(String policy) {
        this.policy = policy;
    }

    public int getK() {
        return k;
    }

    public void setK(int k) {
        this.k = k;
    }

    public int getNInit() {
        return nInit;
    }

    public void setNInit(int nInit) {
        this.nInit = nInit;
    }

    public int getNLocal() {
        return nLocal;
    }

    public void setNLocal(int nLocal) {
        this.nLocal = nLocal;
    }

    public double getTheta() {
        return theta;
    }

    public void setTheta(double theta) {
        this.theta = theta;
    }

    public int getPageSize() {
        return pageSize;
    }

    public void setPageSize(int pageSize) {
        this.pageSize = pageSize;
    }

    public int getPrefillChunk() {
        return prefillChunk;
    }

    public void setPrefillChunk(int prefillChunk) {
        this.prefillChunk = prefillChunk;
    }

    public String getCorpusTurn() {
        return corpusTurn;
    }

    public void setCorpusTurn(String corpusTurn) {
        this.corpusTurn = corpusTurn;
    }

    public int getMaxBatch() {
        return maxBatch;
    }

    public void setMaxBatch(int maxBatch) {
        this.maxBatch = maxBatch;
    }

    public long getHostCacheBytes() {
        return hostCacheBytes;
    }

    public void setHostCacheBytes(long hostCacheBytes) {
        this.hostCacheBytes = hostCacheBytes;
    }
}
