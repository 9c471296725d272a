package dev.tokenselect.engine.cli;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.tokenselect.engine.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "tokenize", description = "Token ids of a text, as transformers' tokenizer gives them.")
final class TokenizeCommand extends ModelCommand {

    @Option(names = "--text", required = true, description = "Text to tokenize")
    String text;

    @Option(names = "--add-special-tokens", description = "Add the tokenizer's special tokens (e.g. Llama's BOS)")
    boolean addSpecialTokens;

    @Override
    public Integer call() throws Exception {
        Tokenizer tokenizer = Tokenizer.load(common.model);
        int[] ids = tokenizer.encode(text, addSpecialTokens);
        CliOutput out = output();
        if (out.json()) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("ids", ids);
            out.object(result);
        } else {
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                sb.append(id).append('\t').append(tokenizer.idToToken(id).orElse("?")).append('\n');
            }
            out.text(sb.toString());
            out.info(ids.length + " tokens");
        }
        return 0;
    }
}
