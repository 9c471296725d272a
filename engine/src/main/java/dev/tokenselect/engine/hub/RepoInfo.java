package dev.tokenselect.engine.hub;

import java.util.ArrayList;
import java.util.List;

import tools.jackson.databind.JsonNode;

/**
 * What {@code /api/models/{repo}/revision/{revision}} says: the commit the revision points to and
 * the repo's files.
 */
record RepoInfo(String commit, List<String> files) {

    static RepoInfo parse(JsonNode json, RepoId repo, String revision) {
        JsonNode sha = json.get("sha");
        if (sha == null || !sha.isString() || !HubCache.isCommitHash(sha.asString())) {
            throw new HubException("The Hub's answer for repo '" + repo + "' (revision '" + revision
                    + "') has no commit hash ('sha'); is HF_ENDPOINT a Hugging Face Hub?");
        }
        List<String> files = new ArrayList<>();
        JsonNode siblings = json.get("siblings");
        if (siblings != null && siblings.isArray()) {
            for (JsonNode s : siblings) {
                JsonNode name = s.get("rfilename");
                if (name != null && name.isString()) {
                    files.add(name.asString());
                }
            }
        }
        return new RepoInfo(sha.asString(), List.copyOf(files));
    }
}
