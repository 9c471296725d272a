package dev.tokenselect.sample;

import java.nio.file.Path;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/** The sample app's own settings: where it keeps its data, upload limits and the API key of the OpenAI endpoints. */
@ConfigurationProperties("sample")
public class SampleProperties {

    /** Uploaded files (under generated ids) and, without spring.datasource.url, the embedded PostgreSQL's data. */
    private Path dataDir = Path.of(System.getProperty("user.home"), ".tokenselect-sample");

    /** The key /v1 requests must send as "Authorization: Bearer KEY"; unset leaves /v1 open. */
    private String apiKey;

    private final Upload upload = new Upload();

    public static class Upload {

        /** Largest file accepted. */
        private DataSize maxFileSize = DataSize.ofMegabytes(20);

        /** Most files in one upload. */
        private int maxFiles = 20;

        /** Most documents in one corpus. */
        private int maxDocumentsPerCorpus = 100;

        public DataSize getMaxFileSize() {
            return maxFileSize;
        }

        public void setMaxFileSize(DataSize maxFileSize) {
            this.maxFileSize = maxFileSize;
        }

        public int getMaxFiles() {
            return maxFiles;
        }

        public void setMaxFiles(int maxFiles) {
            this.maxFiles = maxFiles;
        }

        public int getMaxDocumentsPerCorpus() {
            return maxDocumentsPerCorpus;
        }

        public void setMaxDocumentsPerCorpus(int maxDocumentsPerCorpus) {
            this.maxDocumentsPerCorpus = maxDocumentsPerCorpus;
        }
    }

    public Path getDataDir() {
        return dataDir;
    }

    public void setDataDir(Path dataDir) {
        this.dataDir = dataDir;
    }

    public String getApiKey() {
        return apiKey;
    }

    public void setApiKey(String apiKey) {
        this.apiKey = apiKey;
    }

    public Upload getUpload() {
        return upload;
    }
}
