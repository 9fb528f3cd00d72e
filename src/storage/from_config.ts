// The storage backends the config asks for: local files when Storage.LocalFile.Path is set, Elasticsearch/OpenSearch
// when Address, Username and Password are (the schema makes those all-or-nothing).
import type { Config } from "../config/schema";
import type { Logger } from "../log";
import type { StorageBackend } from "./backend";
import { ElasticsearchStore } from "./elasticsearch";
import { parseAddresses } from "./es_bulk";
import { LocalFileStore } from "./local_file";

const MB = 1024 * 1024;

export function backendsFromConfig(storage: Config["Storage"], log: Logger): StorageBackend[] {
  const backends: StorageBackend[] = [];
  const local = storage.LocalFile;
  if (local.Path.trim() !== "") {
    backends.push(
      new LocalFileStore({
        dir: local.Path,
        rotationBytes: local.RotationSize * MB,
        maxRotation: local.MaxRotation,
        log: log.child("storage", { backend: "local_file" }),
      }),
    );
  }
  const es = storage.ES;
  if (es.Address.trim() !== "") {
    backends.push(
      new ElasticsearchStore({
        addresses: parseAddresses(es.Address),
        index: es.Index,
        username: es.Username,
        password: es.Password,
        bulkBytes: es.BulkSize * MB,
        flushIntervalMs: es.FlushInterval * 1000,
        maxBacklogBytes: es.BacklogSize * MB,
        insecureSkipVerify: es.InsecureSkipVerify,
        log: log.child("storage", { backend: "elasticsearch" }),
      }),
    );
  }
  return backends;
}
