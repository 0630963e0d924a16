import GRDB

/// The database schema, built by append-only migrations: never edit a shipped migration, add one.
///
/// Tables `runs`, `selections`, `run_metrics`, `pool_labels`, `evaluations`, `simulations` and the views `latest_selections` and
/// `round_selections` are a public
/// contract (docs/database.md documents them); column names are never renamed.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: runs, selections, run_metrics, latest_selections") { db in
            try db.create(table: "runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("job", .text).notNull()
                t.column("job_path", .text).notNull()
                t.column("job_json", .text).notNull()
                t.column("job_sha256", .text).notNull()
                t.column("features_path", .text).notNull()
                t.column("features_fingerprint", .text).notNull()
                t.column("method", .text).notNull()
                t.column("params_json", .text).notNull()
                t.column("n", .integer).notNull()
                t.column("d", .integer).notNull()
                t.column("budget", .integer).notNull()
                t.column("seed", .integer).notNull()
                t.column("status", .text).notNull()
                    .check { ["running", "succeeded", "failed", "cancelled", "crashed"].contains($0) }
                t.column("started_at", .datetime).notNull()
                t.column("finished_at", .datetime)
                t.column("duration_s", .double)
                t.column("tool_version", .text).notNull()
                t.column("error", .text)
            }
            try db.create(index: "runs_by_job", on: "runs", columns: ["job", "status", "id"])
            try db.create(table: "selections") { t in
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("rank", .integer).notNull()
                t.column("row_index", .integer).notNull()
                // No declared type: integer ids stay integers, string ids stay text ("007" is not 7).
                t.column("sample_id").notNull()
                t.column("score", .double).notNull()
                t.column("label", .integer)
                t.primaryKey(["run_id", "rank"])
                t.uniqueKey(["run_id", "row_index"])
            }
            try db.create(table: "run_metrics") { t in
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("step", .integer).notNull()
                t.column("name", .text).notNull()
                t.column("value", .double).notNull()
                t.primaryKey(["run_id", "name", "step"])
            }
            try db.execute(sql: """
                CREATE VIEW latest_selections AS
                SELECT runs.job AS job, selections.run_id, selections.rank, selections.row_index,
                       selections.sample_id, selections.score, selections.label
                FROM selections JOIN runs ON runs.id = selections.run_id
                WHERE runs.id = (SELECT MAX(latest.id) FROM runs AS latest
                                 WHERE latest.job = runs.job AND latest.status = 'succeeded')
                """)
        }
        migrator.registerMigration("v2: pool_labels") { db in
            // How many samples of each class the pool had, so a selection's class balance can be
            // compared with the pool's. Only for pools with labels.
            try db.create(table: "pool_labels") { t in
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("label", .integer).notNull()
                t.column("count", .integer).notNull()
                t.primaryKey(["run_id", "label"])
            }
        }
        migrator.registerMigration("v3: rounds") { db in
            // Which round of labelling a run is (1 + the highest round of the runs whose picks it treats
            // as already labelled; a labelled file counts as round 1), how many samples were already
            // labelled, and their fingerprint (NULL when none).
            try db.alter(table: "runs") { t in
                t.add(column: "round", .integer).notNull().defaults(to: 1)
                t.add(column: "labelled_count", .integer).notNull().defaults(to: 0)
                t.add(column: "labelled_fingerprint", .text)
            }
            try db.execute(sql: """
                CREATE VIEW round_selections AS
                SELECT runs.job AS job, runs.round AS round, selections.run_id, selections.rank, selections.row_index,
                       selections.sample_id, selections.score, selections.label
                FROM selections JOIN runs ON runs.id = selections.run_id
                WHERE runs.status = 'succeeded'
                """)
        }
        migrator.registerMigration("v4: evaluations") { db in
            // What `selectjob evaluate` measured of a run's selection, once per run, test set and
            // evaluation parameters (re-evaluating with the same inputs reads this row back).
            try db.create(table: "evaluations") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("test_fingerprint", .text).notNull()
                t.column("params_json", .text).notNull()
                t.column("results_json", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("tool_version", .text).notNull()
                t.uniqueKey(["run_id", "test_fingerprint", "params_json"])
            }
        }
        migrator.registerMigration("v5: runs.notes_json") { db in
            // What a method reports about how its selection came about, e.g. ActiveFT's picks that are
            // still the rows its centroids started at: a JSON object of named numbers, or NULL.
            try db.alter(table: "runs") { t in t.add(column: "notes_json", .text) }
        }
        migrator.registerMigration("v6: simulations") { db in
            // `selectjob simulate`: per strategy, seed and round, the run that labelled the round and
            // the probe's score on the test set after it (the learning curve a team compares).
            try db.create(table: "simulations") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("simulation", .text).notNull()
                t.column("strategy", .text).notNull()
                t.column("seed", .integer).notNull()
                t.column("round", .integer).notNull()
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("labelled_count", .integer).notNull()
                t.column("accuracy", .double).notNull()
                t.column("macro_f1", .double).notNull()
                t.column("test_fingerprint", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.uniqueKey(["simulation", "strategy", "seed", "round"])
            }
        }
        migrator.registerMigration("v7: dropped_duplicates") { db in
            // A job's `dedup`: the samples left out of a run's candidates as near-duplicates, each with
            // the kept sample it duplicates and their cosine similarity.
            try db.create(table: "dropped_duplicates") { t in
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("row_index", .integer).notNull()
                t.column("sample_id").notNull()
                t.column("representative_row", .integer).notNull()
                t.column("representative_id").notNull()
                t.column("similarity", .double).notNull()
                t.primaryKey(["run_id", "row_index"])
            }
        }
        return migrator
    }
}
