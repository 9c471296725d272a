package dev.tokenselect.engine.hub;

import java.net.URI;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns a failed Hub response into a message a person can act on. The Hub says what went wrong in
 * {@code X-Error-Code} ({@code RepoNotFound}, {@code RevisionNotFound}, {@code EntryNotFound},
 * {@code GatedRepo}) and {@code X-Error-Message}; the status code is the fallback.
 */
final class HubErrors {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private HubErrors() {
    }

    /**
     * @param file the file requested, or null for the repo listing
     */
    static HubException forResponse(HubHttp.Response r, URI endpoint, RepoId repo, String revision, String file) {
        String code = r.header("X-Error-Code");
        String serverMessage = serverMessage(r);
        String repoPage = endpoint + "/" + repo.id();
        String detail = serverMessage.isEmpty() ? "" : " (the Hub says: " + serverMessage + ")";
        String message;
        if ("GatedRepo".equals(code)) {
            message = "Hugging Face repo '" + repo + "' is gated (HTTP " + r.status + "): request access at " + repoPage
                    + (r.tokenSent ? " with the account of the token in HF_TOKEN, which has no access yet"
                            : " and set HF_TOKEN to an access token of that account (" + endpoint + "/settings/tokens)");
        } else if (r.status == 401 || r.status == 403) {
            message = r.tokenSent
                    ? "Hugging Face repo '" + repo + "' (revision '" + revision + "') refused the token from HF_TOKEN (HTTP "
                            + r.status + "): the repo is gated or private and the token has no access to it, the token is"
                            + " invalid, or the repo does not exist. Check the repo id, request access at " + repoPage
                            + " and use a token with read access"
                    : "Hugging Face repo '" + repo + "' (revision '" + revision + "') needs authentication (HTTP " + r.status
                            + "): it is gated or private, or does not exist. Set HF_TOKEN to an access token with read access ("
                            + endpoint + "/settings/tokens); for a gated model, also accept its terms at " + repoPage;
        } else if (r.status == 404) {
            message = switch (code == null ? "" : code) {
                case "RevisionNotFound" -> "Hugging Face repo '" + repo + "' has no revision '" + revision
                        + "' (HTTP 404): give an existing branch, tag or commit hash";
                case "RepoNotFound" -> "Hugging Face repo '" + repo + "' was not found at " + endpoint
                        + " (HTTP 404): check the repo id";
                case "EntryNotFound" -> "Hugging Face repo '" + repo + "' has no file '" + file + "' at revision '"
                        + revision + "' (HTTP 404)";
                default -> "Not found (HTTP 404): Hugging Face repo '" + repo + "' at revision '" + revision + "'"
                        + (file == null ? "" : ", file '" + file + "'") + " does not exist at " + endpoint
                        + "; check the repo id and the revision";
            };
        } else if (r.status == 429) {
            message = "The Hub at " + endpoint + " is rate-limiting requests (HTTP 429) for repo '" + repo
                    + "': wait and try again" + (r.tokenSent ? "" : "; authenticated requests (HF_TOKEN) get higher limits");
        } else {
            message = "Request for " + (file == null ? "" : "file '" + file + "' of ") + "Hugging Face repo '" + repo
                    + "' (revision '" + revision + "') failed: HTTP " + r.status + " from " + r.uri;
        }
        if (file == null && (r.status == 401 || r.status == 404) && !"RevisionNotFound".equals(code)) {
            // a mistyped local path that happens to look like a repo id ends up here
            message += ". If '" + repo + "' is meant as a local directory: it does not exist";
        }
        return new HubException(message + detail);
    }

    private static String serverMessage(HubHttp.Response r) {
        String header = r.header("X-Error-Message");
        if (header != null && !header.isBlank()) {
            return header.strip();
        }
        String body = r.errorText();
        if (body.startsWith("{")) {
            try {
                JsonNode error = JSON.readTree(body).get("error");
                if (error != null && error.isString()) {
                    return error.asString();
                }
            } catch (RuntimeException e) {
                // a truncated or non-JSON body: shown as it is
            }
        }
        return body;
    }
}
