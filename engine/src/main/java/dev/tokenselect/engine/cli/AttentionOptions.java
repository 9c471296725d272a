package dev.tokenselect.engine.cli;

import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.SelectionParams;
import picocli.CommandLine.Option;

/** Which attention the request uses: full (default), TokenSelect or a baseline. */
final class AttentionOptions {

    @Option(names = "--select", paramLabel = "SPEC",
            description = "TokenSelect parameters k=N,n-init=N,n-local=N,theta=X (defaults 2048, 128, 512, 0.9); "
                    + "absent: full attention unless --policy says otherwise")
    String select;

    @Option(names = "--policy", paramLabel = "NAME",
            description = "full, tokenselect, streaming (sinks + window) or page (page-level selection); "
                    + "default: tokenselect with --select, else full")
    String policy;

    @Option(names = "--page-size", defaultValue = "16", description = "Tokens per page for --policy page (default: ${DEFAULT-VALUE})")
    int pageSize;

    /** @param prefillChunk the --prefill-chunk value, which a selection policy also uses as its chunk */
    AttentionSpec spec(int prefillChunk, boolean prefillChunkGiven) {
        AttentionSpec.Kind kind = policy != null ? AttentionSpec.kind(policy)
                : select != null ? AttentionSpec.Kind.TOKENSELECT : AttentionSpec.Kind.FULL;
        if (kind == AttentionSpec.Kind.FULL) {
            if (select != null) {
                throw new IllegalArgumentException("--select has no effect with --policy full");
            }
            return AttentionSpec.full();
        }
        SelectionParams params = SelectionParams.parse(select, prefillChunkGiven ? prefillChunk : null);
        return new AttentionSpec(kind, params, pageSize);
    }
}
