//! Tests of reading migration sets and planning new migrations: temporary folders built per
//! test, and the committed fixtures under `tests/fixtures/migrations/`.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use tempfile::TempDir;

use super::sqlx::{parse_name, Kind, Name};
use super::{
    has_statement, plan_new, read_set, slugify, Layout, LayoutChoice, Migration, MigrationFile,
    MigrationSet, SourceError, Version, VersionStyle,
};

/// A temporary migrations folder.
struct Folder {
    _tmp: TempDir,
    dir: PathBuf,
}

impl Folder {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("migrations");
        fs::create_dir(&dir).expect("mkdir");
        Self { _tmp: tmp, dir }
    }

    /// Writes `contents` to `rel` (creating parent folders); returns the path.
    fn file(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, contents).expect("write");
        path
    }

    fn mkdir(&self, rel: &str) -> PathBuf {
        let path = self.dir.join(rel);
        fs::create_dir_all(&path).expect("mkdir");
        path
    }

    fn read(&self, choice: LayoutChoice) -> Result<MigrationSet, SourceError> {
        read_set(&self.dir, choice)
    }

    fn ok(&self, choice: LayoutChoice) -> MigrationSet {
        match self.read(choice) {
            Ok(set) => set,
            Err(e) => panic!("read_set failed: {e}"),
        }
    }

    fn err(&self, choice: LayoutChoice) -> SourceError {
        match self.read(choice) {
            Ok(set) => panic!("expected an error, got {set:?}"),
            Err(e) => e,
        }
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/migrations")
        .join(name)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn versions(set: &MigrationSet) -> Vec<String> {
    set.migrations
        .iter()
        .map(|m| m.version.to_string())
        .collect()
}

fn names(set: &MigrationSet) -> Vec<String> {
    set.migrations.iter().map(Migration::name).collect()
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid time")
}

fn now() -> DateTime<Utc> {
    at(2026, 7, 15, 18, 29, 34)
}

/// SHA-384 of "CREATE TABLE users (id BIGINT PRIMARY KEY);\n", derived once with
/// `printf 'CREATE TABLE users (id BIGINT PRIMARY KEY);\n' | sha384sum`.
const USERS_LF_SHA384: &str = "90ac4c5e2fd0332e3ed0171e462b6dd32fdf15942aebad5098f2beaf53d578d9\
                               0dea1859ef374c5e1f4b17279dbefad0";
/// The same with CRLF: `printf 'CREATE TABLE users (id BIGINT PRIMARY KEY);\r\n' | sha384sum`.
const USERS_CRLF_SHA384: &str = "4bff74accf4dbd004386cc93cd8907fe28e1e9893d1a66d5d37ef72c0354b1d\
                                 0b768c4d7b72670ea9107465fdff7579f";
/// `sha384sum tests/fixtures/migrations/sqlx-basic/0001_create_users.up.sql`.
const BASIC_0001_SHA384: &str = "a8814754687ae8eaf49fa75e3438b3f4b9fd223c15bc15e1a746884b36fb643\
                                 33ec11912bdb4c68047a9763df42ec86c";

// ---------------------------------------------------------------- fixtures

#[test]
fn sqlx_basic_fixture() {
    let set = read_set(&fixture("sqlx-basic"), LayoutChoice::Auto).expect("read");
    assert_eq!(set.layout, Layout::Sqlx);
    assert_eq!(
        set.warnings,
        Vec::<String>::new(),
        "README.md is ignored silently"
    );
    assert_eq!(versions(&set), ["1", "2", "3", "20240101120000"]);
    assert_eq!(
        names(&set),
        [
            "0001_create_users",
            "0002_add_email",
            "0003_seed_roles",
            "20240101120000_index_email"
        ]
    );
    let descriptions: Vec<&str> = set.migrations.iter().map(|m| &*m.description).collect();
    assert_eq!(
        descriptions,
        ["create users", "add email", "seed roles", "index email"]
    );
    let reversible: Vec<bool> = set.migrations.iter().map(|m| m.is_reversible()).collect();
    assert_eq!(reversible, [true, true, false, true]);
    let empty_down: Vec<bool> = set.migrations.iter().map(|m| m.down_is_empty()).collect();
    assert_eq!(empty_down, [false, true, false, false]);
    let no_tx: Vec<bool> = set.migrations.iter().map(|m| m.no_transaction).collect();
    assert_eq!(no_tx, [false, false, false, true]);
    assert!(set.migrations[3].down_no_transaction());
    assert!(!set.migrations[0].down_no_transaction());
    assert_eq!(hex(&set.migrations[0].checksum), BASIC_0001_SHA384);
    assert_eq!(
        set.migrations[0].up.path,
        fixture("sqlx-basic").join("0001_create_users.up.sql")
    );
    assert_eq!(
        set.find(&Version::Sqlx(3)).map(|m| m.up.path.clone()),
        Some(fixture("sqlx-basic").join("0003_seed_roles.sql"))
    );
    assert!(set.find(&Version::Sqlx(4)).is_none());
}

#[test]
fn diesel_basic_fixture() {
    let set = read_set(&fixture("diesel-basic"), LayoutChoice::Auto).expect("read");
    assert_eq!(set.layout, Layout::Diesel);
    assert_eq!(
        set.warnings,
        Vec::<String>::new(),
        ".keep is ignored silently"
    );
    assert_eq!(
        versions(&set),
        [
            "00000000000000",
            "20190226002946",
            "20200101000000",
            "202607151829340000",
            "202607151829340001"
        ]
    );
    assert_eq!(
        names(&set),
        [
            "00000000000000_diesel_initial_setup",
            "2019-02-26-002946_create_users",
            "20200101000000_add_posts",
            "2026-07-15-182934-0000_index_posts",
            "2026-07-15-182934-0001_backfill"
        ]
    );
    assert_eq!(set.migrations[1].description, "create_users");
    let no_tx: Vec<bool> = set.migrations.iter().map(|m| m.no_transaction).collect();
    assert_eq!(no_tx, [false, false, false, true, false]);
    assert!(set.migrations[3].down_no_transaction());
    let reversible: Vec<bool> = set.migrations.iter().map(|m| m.is_reversible()).collect();
    assert_eq!(reversible, [true, true, true, true, false]);
    let users = &set.migrations[1];
    assert_eq!(
        users.up.path,
        fixture("diesel-basic").join("2019-02-26-002946_create_users/up.sql")
    );
    assert_eq!(
        users.checksum,
        super::sql::checksum("CREATE TABLE users (id SERIAL PRIMARY KEY, name TEXT NOT NULL);\n")
    );
    assert!(set
        .find(&Version::parse(Layout::Diesel, "2019-02-26-002946").expect("parse"))
        .is_some());
}

#[test]
fn sqlx_crlf_fixture_keeps_and_hashes_the_raw_text() {
    let set = read_set(&fixture("sqlx-crlf"), LayoutChoice::Auto).expect("read");
    let m = &set.migrations[0];
    assert_eq!(m.up.sql, "CREATE TABLE users (id BIGINT PRIMARY KEY);\r\n");
    assert_eq!(hex(&m.checksum), USERS_CRLF_SHA384);
    assert_eq!(
        m.down.as_ref().map(|d| d.sql.as_str()),
        Some("DROP TABLE users;\r\n")
    );
}

// ---------------------------------------------------------------- checksum

#[test]
fn checksum_is_sha384_of_the_raw_up_text_as_sqlx_computes_it() {
    let f = Folder::new();
    f.file(
        "1_create_users.up.sql",
        "CREATE TABLE users (id BIGINT PRIMARY KEY);\n",
    );
    f.file("1_create_users.down.sql", "DROP TABLE users;\n");
    f.file(
        "2_crlf.sql",
        "CREATE TABLE users (id BIGINT PRIMARY KEY);\r\n",
    );
    let set = f.ok(LayoutChoice::Auto);
    assert_eq!(hex(&set.migrations[0].checksum), USERS_LF_SHA384);
    assert_eq!(hex(&set.migrations[1].checksum), USERS_CRLF_SHA384);
    // Diesel's up.sql is hashed the same way.
    let d = Folder::new();
    d.file(
        "20190226002946_users/up.sql",
        "CREATE TABLE users (id BIGINT PRIMARY KEY);\n",
    );
    assert_eq!(
        hex(&d.ok(LayoutChoice::Auto).migrations[0].checksum),
        USERS_LF_SHA384
    );
}

#[test]
fn byte_order_mark_is_kept_and_hashed() {
    let f = Folder::new();
    f.file("1_bom.sql", "\u{feff}SELECT 1;\n");
    let set = f.ok(LayoutChoice::Auto);
    assert!(set.migrations[0].up.sql.starts_with('\u{feff}'));
    assert_eq!(
        set.migrations[0].checksum,
        super::sql::checksum("\u{feff}SELECT 1;\n")
    );
}

// ---------------------------------------------------------------- sqlx names

#[test]
fn sqlx_file_name_table() {
    let migration = |version, kind, description: &str| Name::Migration {
        version,
        kind,
        description: description.to_owned(),
    };
    let cases = [
        ("1_a.sql", migration(1, Kind::Simple, "a")),
        (
            "1_create_users.up.sql",
            migration(1, Kind::Up, "create users"),
        ),
        ("0003_x_y.down.sql", migration(3, Kind::Down, "x y")),
        (
            "20240101120000_b.sql",
            migration(20240101120000, Kind::Simple, "b"),
        ),
        // Rust's i64 parsing, as sqlx uses it.
        ("+5_x.sql", migration(5, Kind::Simple, "x")),
        ("-1_x.sql", migration(-1, Kind::Simple, "x")),
        // Only the first `_` separates; the rest is the description.
        ("1__x.sql", migration(1, Kind::Simple, " x")),
        ("1_.sql", migration(1, Kind::Simple, "")),
        // `trim_end_matches` removes a repeated suffix.
        ("1_x.sql.sql", migration(1, Kind::Simple, "x")),
        ("1_x.up.sql.up.sql", migration(1, Kind::Up, "x")),
        ("1_up.sql", migration(1, Kind::Simple, "up")),
        ("abc_x.sql", Name::BadVersion("abc".to_owned())),
        ("1.5_x.sql", Name::BadVersion("1.5".to_owned())),
        (
            "99999999999999999999_x.sql",
            Name::BadVersion("99999999999999999999".to_owned()),
        ),
        ("1-x.sql", Name::NotMigration),
        ("1.sql", Name::NotMigration),
        ("notes.txt", Name::NotMigration),
        ("1_x.SQL", Name::NotMigration),
        ("1_x.sql.bak", Name::NotMigration),
    ];
    for (name, expected) in cases {
        assert_eq!(parse_name(name), expected, "{name}");
    }
}

#[test]
fn no_transaction_is_a_prefix_test_at_byte_zero() {
    let f = Folder::new();
    f.file(
        "1_a.sql",
        "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);\n",
    );
    f.file(
        "2_b.sql",
        "-- no-transactions here: still a prefix match\nSELECT 1;",
    );
    f.file("3_c.sql", "--no-transaction\nSELECT 1;");
    f.file("4_d.sql", "  -- no-transaction\nSELECT 1;");
    f.file("5_e.sql", "\u{feff}-- no-transaction\nSELECT 1;");
    f.file("6_f.sql", "SELECT 1;\n-- no-transaction\n");
    f.file("7_g.up.sql", "SELECT 1;");
    f.file("7_g.down.sql", "-- no-transaction\nSELECT 1;");
    let set = f.ok(LayoutChoice::Auto);
    let no_tx: Vec<bool> = set.migrations.iter().map(|m| m.no_transaction).collect();
    assert_eq!(no_tx, [true, true, false, false, false, false, false]);
    // sqlx decides per file: the down file of 7 runs outside a transaction.
    assert!(set.migrations[6].down_no_transaction());
    // A marker sqlx would miss (after whitespace or a BOM) is pointed out.
    assert_eq!(set.warnings.len(), 2, "{:?}", set.warnings);
    assert!(set.warnings[0].starts_with(&format!("{}: ", f.dir.join("4_d.sql").display())));
    assert!(set.warnings[0].contains("not at the very start"));
    assert!(set.warnings[1].starts_with(&format!("{}: ", f.dir.join("5_e.sql").display())));
}

// ---------------------------------------------------------------- ordering and versions

#[test]
fn sqlx_orders_numerically() {
    let f = Folder::new();
    for name in ["10_a.sql", "9_b.sql", "100_c.sql", "0011_d.sql"] {
        f.file(name, "SELECT 1;");
    }
    let set = f.ok(LayoutChoice::Auto);
    assert_eq!(versions(&set), ["9", "10", "11", "100"]);
    assert_eq!(names(&set), ["9_b", "10_a", "0011_d", "100_c"]);
}

#[test]
fn diesel_orders_by_stored_version_text() {
    let f = Folder::new();
    for dir in [
        "2026-07-15-182934-0000_c",
        "20260715182934_d",
        "2019-02-26-002946_a",
        "20190226002945_b",
        "2026-07-15-182934-000a_e",
        "2026-07-15-182934-0001_f",
    ] {
        f.file(&format!("{dir}/up.sql"), "SELECT 1;");
    }
    let set = f.ok(LayoutChoice::Auto);
    assert_eq!(
        versions(&set),
        [
            "20190226002945",
            "20190226002946",
            "20260715182934",
            "202607151829340000",
            "202607151829340001",
            "20260715182934000a"
        ]
    );
    assert_eq!(
        names(&set),
        [
            "20190226002945_b",
            "2019-02-26-002946_a",
            "20260715182934_d",
            "2026-07-15-182934-0000_c",
            "2026-07-15-182934-0001_f",
            "2026-07-15-182934-000a_e"
        ]
    );
}

#[test]
fn version_parse_table() {
    let sqlx = [
        ("3", Some(3)),
        ("0003", Some(3)),
        (" 42 ", Some(42)),
        ("3_add_users", Some(3)),
        ("20240101120000", Some(20240101120000)),
        ("x", None),
        ("", None),
        ("1.5", None),
    ];
    for (input, expected) in sqlx {
        assert_eq!(
            Version::parse(Layout::Sqlx, input),
            expected.map(Version::Sqlx),
            "{input:?}"
        );
    }
    let diesel = [
        ("2019-02-26-002946", Some("20190226002946")),
        ("20190226002946", Some("20190226002946")),
        ("20140924113530", Some("20140924113530")),
        ("2026-07-15-182934-0000", Some("202607151829340000")),
        ("2019-02-26-002946_create_users", Some("20190226002946")),
        ("00000000000000", Some("00000000000000")),
        ("abc", None),
        ("-1", None),
        ("", None),
        ("2019/02/26", None),
    ];
    for (input, expected) in diesel {
        assert_eq!(
            Version::parse(Layout::Diesel, input),
            expected.map(|s| Version::Diesel(s.to_owned())),
            "{input:?}"
        );
    }
}

#[test]
fn display_and_serialisation() {
    assert_eq!(Version::Sqlx(7).to_string(), "7");
    assert_eq!(
        Version::Diesel("20190226002946".into()).to_string(),
        "20190226002946"
    );
    assert_eq!(serde_json::to_string(&Version::Sqlx(7)).unwrap(), "7");
    assert_eq!(
        serde_json::to_string(&Version::Diesel("0001".into())).unwrap(),
        "\"0001\""
    );
    assert_eq!(Layout::Sqlx.to_string(), "sqlx");
    assert_eq!(Layout::Diesel.to_string(), "diesel");
    assert_eq!(
        serde_json::to_string(&Layout::Diesel).unwrap(),
        "\"diesel\""
    );
    assert_eq!(Layout::Sqlx.tracking_table(), "_sqlx_migrations");
    assert_eq!(
        Layout::Diesel.tracking_table(),
        "__diesel_schema_migrations"
    );
    assert_eq!(LayoutChoice::default(), LayoutChoice::Auto);
    assert_eq!(LayoutChoice::Diesel.to_string(), "diesel");
}

// ---------------------------------------------------------------- layout detection

#[test]
fn empty_folder_is_an_empty_sqlx_set() {
    let f = Folder::new();
    let set = f.ok(LayoutChoice::Auto);
    assert_eq!(set.layout, Layout::Sqlx);
    assert!(set.migrations.is_empty() && set.warnings.is_empty());
    assert_eq!(set.dir, f.dir);

    // Hidden entries and README files are ignored silently, in either layout.
    f.file(".gitkeep", "");
    f.file(".hidden_1_x.sql", "SELECT 1;");
    f.file(".diesel_lock", "");
    f.mkdir(".git");
    f.file("README.md", "# migrations");
    f.file("readme.txt", "notes");
    let set = f.ok(LayoutChoice::Auto);
    assert_eq!(set.layout, Layout::Sqlx);
    assert!(
        set.migrations.is_empty() && set.warnings.is_empty(),
        "{set:?}"
    );
    let set = f.ok(LayoutChoice::Diesel);
    assert_eq!(set.layout, Layout::Diesel);
    assert!(
        set.migrations.is_empty() && set.warnings.is_empty(),
        "{set:?}"
    );
}

#[test]
fn auto_detects_each_layout() {
    let s = Folder::new();
    s.file("1_a.sql", "SELECT 1;");
    s.mkdir("scratch");
    let set = s.ok(LayoutChoice::Auto);
    assert_eq!(set.layout, Layout::Sqlx);
    assert!(
        set.warnings.is_empty(),
        "sqlx ignores folders: {:?}",
        set.warnings
    );

    let d = Folder::new();
    d.file("20190226002946_a/up.sql", "SELECT 1;");
    assert_eq!(d.ok(LayoutChoice::Auto).layout, Layout::Diesel);
}

#[test]
fn both_layouts_with_auto_is_an_error() {
    let f = Folder::new();
    let sqlx = f.file("1_a.sql", "SELECT 1;");
    f.file("2_b.sql", "SELECT 1;");
    let diesel = f.file("2019-02-26-002946_x/up.sql", "SELECT 1;");
    let error = f.err(LayoutChoice::Auto);
    assert!(
        matches!(error, SourceError::MixedLayouts { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "{}: holds both sqlx migration files (e.g. {}) and diesel migration folders (e.g. \
             {}); set the `layout` config key (or PACKIT_DB_LAYOUT) to sqlx or diesel to say \
             which one this project uses",
            f.dir.display(),
            sqlx.display(),
            diesel.parent().unwrap().display()
        )
    );

    // Forcing a layout resolves it: the other layout's entries are ignored with a warning.
    let set = f.ok(LayoutChoice::Sqlx);
    assert_eq!(versions(&set), ["1", "2"]);
    assert_eq!(set.warnings.len(), 1);
    assert!(set.warnings[0].starts_with(&format!(
        "{}: a diesel migration folder",
        f.dir.join("2019-02-26-002946_x").display()
    )));
    let set = f.ok(LayoutChoice::Diesel);
    assert_eq!(versions(&set), ["20190226002946"]);
    assert_eq!(set.warnings.len(), 2);
    assert!(set.warnings[0].starts_with(&format!("{}: a sqlx migration file", sqlx.display())));
}

#[test]
fn wrong_layout_in_the_config_is_an_error() {
    let d = Folder::new();
    let example = d.mkdir("2019-02-26-002946_x");
    d.file("2019-02-26-002946_x/up.sql", "SELECT 1;");
    let error = d.err(LayoutChoice::Sqlx);
    assert!(matches!(
        &error,
        SourceError::WrongLayout {
            found: Layout::Diesel,
            configured: LayoutChoice::Sqlx,
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        format!(
            "{}: the `layout` config key says sqlx, but the folder holds diesel migrations \
             (e.g. {}); set `layout` to diesel or auto",
            d.dir.display(),
            example.display()
        )
    );

    let s = Folder::new();
    let example = s.file("3_x.up.sql", "SELECT 1;");
    let error = s.err(LayoutChoice::Diesel);
    assert!(matches!(
        &error,
        SourceError::WrongLayout {
            found: Layout::Sqlx,
            ..
        }
    ));
    assert!(error.to_string().contains(&format!(
        "holds sqlx migrations (e.g. {})",
        example.display()
    )));
}

#[test]
fn missing_folder_names_it_and_says_what_to_do() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("migrations");
    let error = read_set(&dir, LayoutChoice::Auto).expect_err("missing");
    assert!(matches!(&error, SourceError::MissingFolder { dir: d } if *d == dir));
    assert_eq!(
        error.to_string(),
        format!(
            "{}: the migrations folder does not exist; `cargo packit-db migrate new <message>` \
             creates it with a first migration, or set the `migrations` config key to the \
             folder that holds your migrations",
            dir.display()
        )
    );

    fs::write(&dir, "").expect("write");
    let error = read_set(&dir, LayoutChoice::Auto).expect_err("a file");
    assert!(matches!(error, SourceError::NotAFolder { .. }), "{error:?}");
    assert!(error
        .to_string()
        .starts_with(&format!("{}: not a folder", dir.display())));
}

// ---------------------------------------------------------------- bad input

#[test]
fn duplicate_sqlx_versions_name_both_files() {
    let cases: [(&[&str], &str, &str); 5] = [
        (&["1_a.sql", "1_b.up.sql"], "1_a.sql", "1_b.up.sql"),
        (&["1_a.sql", "01_b.sql"], "01_b.sql", "1_a.sql"),
        (
            &["0001_a.up.sql", "1_a.up.sql"],
            "0001_a.up.sql",
            "1_a.up.sql",
        ),
        (
            &["2_a.down.sql", "02_a.down.sql", "2_a.up.sql"],
            "02_a.down.sql",
            "2_a.down.sql",
        ),
        (&["3_a.down.sql", "3_a.sql"], "3_a.down.sql", "3_a.sql"),
    ];
    for (files, first, second) in cases {
        let f = Folder::new();
        for name in files {
            f.file(name, "SELECT 1;");
        }
        let error = f.err(LayoutChoice::Auto);
        let (first, second) = (f.dir.join(first), f.dir.join(second));
        assert!(
            matches!(&error, SourceError::DuplicateVersion { first: a, second: b, .. }
                if *a == first && *b == second),
            "{files:?}: {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("{}: version ", second.display())),
            "{message}"
        );
        let first_name = first.file_name().unwrap().to_string_lossy();
        assert!(
            message.contains(&format!("is also used by {first_name};")),
            "{message}"
        );
    }
}

#[test]
fn duplicate_diesel_versions_name_both_folders() {
    let f = Folder::new();
    f.file("2019-02-26-002946_a/up.sql", "SELECT 1;");
    f.file("20190226002946_b/up.sql", "SELECT 1;");
    let error = f.err(LayoutChoice::Auto);
    assert_eq!(
        error.to_string(),
        format!(
            "{}: version 20190226002946 is also used by 2019-02-26-002946_a; each migration \
             needs its own version: rename one of them",
            f.dir.join("20190226002946_b").display(),
        )
    );
}

#[test]
fn down_without_up_is_an_error() {
    let f = Folder::new();
    f.file("1_a.sql", "SELECT 1;");
    let down = f.file("3_x.down.sql", "DROP TABLE x;");
    let error = f.err(LayoutChoice::Auto);
    assert_eq!(
        error.to_string(),
        format!(
            "{}: a down migration without its up file 3_x.up.sql; add the up file, or delete \
             this one",
            down.display(),
        )
    );
}

#[test]
fn down_with_another_description_is_an_error() {
    let f = Folder::new();
    f.file("1_a.up.sql", "SELECT 1;");
    let down = f.file("1_b.down.sql", "SELECT 1;");
    let error = f.err(LayoutChoice::Auto);
    assert_eq!(
        error.to_string(),
        format!(
            "{}: has the version of 1_a.up.sql but another description; rename it to \
             1_a.down.sql",
            down.display(),
        )
    );
}

#[test]
fn up_without_down_is_irreversible_with_a_warning() {
    let f = Folder::new();
    let up = f.file("1_a.up.sql", "SELECT 1;");
    let set = f.ok(LayoutChoice::Auto);
    assert!(!set.migrations[0].is_reversible());
    assert_eq!(set.migrations[0].name(), "1_a");
    assert_eq!(
        set.warnings,
        [format!(
            "{}: no 1_a.down.sql next to it; the migration is treated as irreversible (add \
             1_a.down.sql to make it reversible)",
            up.display(),
        )]
    );
}

#[test]
fn diesel_folder_without_up_sql_is_an_error() {
    let f = Folder::new();
    f.file("2019-02-26-002946_a/up.sql", "SELECT 1;");
    let bad = f.mkdir("2020-01-01-000000_b");
    f.file("2020-01-01-000000_b/down.sql", "SELECT 1;");
    let error = f.err(LayoutChoice::Auto);
    assert_eq!(
        error.to_string(),
        format!(
            "{}: no up.sql in this migration folder (diesel requires one in every subfolder of \
             the migrations folder); add up.sql, or move the folder out of {}",
            bad.display(),
            f.dir.display()
        )
    );

    // Alone, a folder named like a diesel migration still makes a diesel set.
    let g = Folder::new();
    g.mkdir("2020-01-01-000000_b");
    assert!(matches!(
        g.err(LayoutChoice::Auto),
        SourceError::DieselMissingUp { .. }
    ));

    // Any other subfolder of a diesel set too, as diesel refuses it.
    let h = Folder::new();
    h.file("2019-02-26-002946_a/up.sql", "SELECT 1;");
    h.mkdir("docs");
    assert!(matches!(
        h.err(LayoutChoice::Auto),
        SourceError::DieselMissingUp { .. }
    ));
}

#[test]
fn non_utf8_files_are_named_with_the_offset() {
    let f = Folder::new();
    let path = f.file("1_a.sql", b"SELECT 1;\xff\n");
    let error = f.err(LayoutChoice::Auto);
    assert!(
        matches!(&error, SourceError::NotUtf8 { offset: 9, .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "{}: not valid UTF-8 (first invalid byte at offset 9); save the file as UTF-8",
            path.display()
        )
    );

    let d = Folder::new();
    d.file("20190226002946_a/up.sql", "SELECT 1;");
    let down = d.file("20190226002946_a/down.sql", b"-- caf\xe9\n");
    let error = d.err(LayoutChoice::Auto);
    assert!(matches!(&error, SourceError::NotUtf8 { path, offset: 6 } if *path == down));
}

#[test]
fn empty_up_files_are_errors_empty_down_files_are_not() {
    for contents in ["", "  \n\t\r\n", "\u{feff}\n"] {
        let f = Folder::new();
        let up = f.file("1_a.up.sql", contents);
        f.file("1_a.down.sql", "");
        let error = f.err(LayoutChoice::Auto);
        assert_eq!(
            error.to_string(),
            format!(
                "{}: holds no SQL; write the migration's statements in it, or delete the \
                 migration",
                up.display()
            )
        );
    }
    let d = Folder::new();
    let up = d.file("20190226002946_a/up.sql", "\n");
    assert!(matches!(d.err(LayoutChoice::Auto), SourceError::EmptyUp { path } if path == up));

    // A comment-only up file is SQL sqlx runs (a no-op): allowed.
    let f = Folder::new();
    f.file("1_a.up.sql", "-- Add up migration script here\n");
    f.file("1_a.down.sql", "");
    let set = f.ok(LayoutChoice::Auto);
    assert!(set.migrations[0].is_reversible());
    assert!(set.migrations[0].down_is_empty());
}

#[test]
fn names_fitting_neither_layout_are_warnings() {
    let f = Folder::new();
    f.file("1_a.sql", "SELECT 1;");
    let notes = f.file("notes.txt", "x");
    let bad_version = f.file("abc_x.sql", "SELECT 1;");
    let dash = f.file("1-x.sql", "SELECT 1;");
    let set = f.ok(LayoutChoice::Auto);
    assert_eq!(versions(&set), ["1"]);
    assert_eq!(set.warnings.len(), 3, "{:?}", set.warnings);
    // In name order: 1-x.sql, abc_x.sql, notes.txt.
    assert_eq!(
        set.warnings[0],
        format!(
            "{}: not a migration, ignored (sqlx migrations are named \
             <version>_<description>.sql, .up.sql or .down.sql)",
            dash.display()
        )
    );
    assert_eq!(
        set.warnings[1],
        format!(
            "{}: not a migration, ignored: `abc` is not an integer version; sqlx itself \
             refuses a folder holding this file (`sqlx::migrate!()` fails), so rename it to \
             <version>_<description>.sql or move it out",
            bad_version.display()
        )
    );
    assert!(set.warnings[2].starts_with(&format!("{}: not a migration", notes.display())));

    // Alone, such files do not make a layout: an empty sqlx set with warnings.
    let g = Folder::new();
    g.file("notes.txt", "x");
    let set = g.ok(LayoutChoice::Auto);
    assert_eq!(
        (set.layout, set.migrations.len(), set.warnings.len()),
        (Layout::Sqlx, 0, 1)
    );

    // In a diesel set: stray files and badly named folders.
    let d = Folder::new();
    d.file("20190226002946_a/up.sql", "SELECT 1;");
    let stray = d.file("schema.sql", "SELECT 1;");
    let bad = d.mkdir("abc_x");
    d.file("abc_x/up.sql", "SELECT 1;");
    let set = d.ok(LayoutChoice::Auto);
    assert_eq!(versions(&set), ["20190226002946"]);
    assert_eq!(set.warnings.len(), 2, "{:?}", set.warnings);
    assert!(set.warnings[0].starts_with(&format!(
        "{}: not a migration, ignored: `abc` is not a version",
        bad.display()
    )));
    assert!(set.warnings[1].starts_with(&format!(
        "{}: not a migration, ignored (diesel migrations are folders",
        stray.display()
    )));
}

// ---------------------------------------------------------------- diesel metadata

#[test]
fn diesel_metadata_toml() {
    let cases = [
        ("run_in_transaction = false\n", true, 0),
        ("run_in_transaction = true\n", false, 0),
        (
            "# comment\nrun_in_transaction = true\nauthor = \"x\"\n",
            false,
            1,
        ),
        // diesel's `#[serde(default)] run_in_transaction: bool` reads a missing key as false.
        ("", true, 1),
        ("author = \"x\"\n", true, 2),
    ];
    for (toml, no_tx, warnings) in cases {
        let f = Folder::new();
        f.file("20190226002946_a/up.sql", "SELECT 1;");
        let path = f.file("20190226002946_a/metadata.toml", toml);
        let set = f.ok(LayoutChoice::Auto);
        assert_eq!(set.migrations[0].no_transaction, no_tx, "{toml:?}");
        assert_eq!(set.warnings.len(), warnings, "{toml:?}: {:?}", set.warnings);
        for warning in &set.warnings {
            assert!(
                warning.starts_with(&format!("{}: ", path.display())),
                "{warning}"
            );
        }
    }

    let f = Folder::new();
    f.file("20190226002946_a/up.sql", "SELECT 1;");
    let path = f.file(
        "20190226002946_a/metadata.toml",
        "x = 1\nrun_in_transaction = fals\n",
    );
    let message = f.err(LayoutChoice::Auto).to_string();
    assert!(
        message.starts_with(&format!(
            "{}: invalid TOML at line 2, column ",
            path.display()
        )),
        "{message}"
    );
    assert!(message.ends_with("fix it, or delete it"), "{message}");

    f.file(
        "20190226002946_a/metadata.toml",
        "run_in_transaction = \"no\"\n",
    );
    assert_eq!(
        f.err(LayoutChoice::Auto).to_string(),
        format!(
            "{}: `run_in_transaction` must be true or false, not \"no\"",
            path.display()
        )
    );
}

// ---------------------------------------------------------------- statements

#[test]
fn has_statement_table() {
    let empty = [
        "",
        "  \n\t\r\n",
        "-- only a comment",
        "-- a\n-- b\n",
        "/* block */",
        "/* outer /* nested */ still comment */\n",
        "-- a\n/* b */ ;\n;",
        "\u{feff}-- bom",
        "/* unterminated",
    ];
    for sql in empty {
        assert!(!has_statement(sql), "{sql:?}");
    }
    let statements = [
        "DROP TABLE x;",
        "-- c\nDROP TABLE x",
        "/* a */ SELECT 1",
        "/* a /* b */ */ x",
        "'--'",
        "-- a\r\nSELECT 1",
    ];
    for sql in statements {
        assert!(has_statement(sql), "{sql:?}");
    }
}

#[test]
fn name_falls_back_to_version_and_description() {
    let m = Migration {
        version: Version::Sqlx(5),
        description: "x y".into(),
        up: MigrationFile {
            path: PathBuf::from("elsewhere"),
            sql: "SELECT 1;".into(),
        },
        down: None,
        no_transaction: false,
        checksum: Vec::new(),
    };
    assert_eq!(m.name(), "5_x y");
    assert!(!m.is_reversible() && !m.down_is_empty() && !m.down_no_transaction());
}

// ---------------------------------------------------------------- version style

fn sqlx_set(files: &[&str]) -> (Folder, MigrationSet) {
    let f = Folder::new();
    for name in files {
        f.file(name, "SELECT 1;");
    }
    let set = f.ok(LayoutChoice::Auto);
    (f, set)
}

#[test]
fn infer_style_like_sqlx_cli() {
    let cases: [(&[&str], VersionStyle); 9] = [
        (&[], VersionStyle::Timestamp),
        (&["1_a.sql"], VersionStyle::Sequential),
        (&["0_a.sql"], VersionStyle::Sequential),
        (&["5_a.sql"], VersionStyle::Timestamp),
        (&["1_a.sql", "2_b.sql"], VersionStyle::Sequential),
        (&["1_a.sql", "3_b.sql"], VersionStyle::Timestamp),
        (&["1_a.sql", "3_b.sql", "4_c.sql"], VersionStyle::Sequential),
        (
            &["20240101000000_a.sql", "20240101000005_b.sql"],
            VersionStyle::Timestamp,
        ),
        // Distinct versions are compared, so reversible sets are recognised too.
        (
            &["1_a.up.sql", "1_a.down.sql", "2_b.up.sql", "2_b.down.sql"],
            VersionStyle::Sequential,
        ),
    ];
    for (files, expected) in cases {
        let (_f, set) = sqlx_set(files);
        assert_eq!(set.infer_style(), expected, "{files:?}");
    }
    let d = Folder::new();
    d.file("1_a/up.sql", "SELECT 1;");
    d.file("2_b/up.sql", "SELECT 1;");
    assert_eq!(
        d.ok(LayoutChoice::Auto).infer_style(),
        VersionStyle::Timestamp
    );
}

#[test]
fn next_version() {
    let (_f, empty) = sqlx_set(&[]);
    assert_eq!(
        empty.next_version(VersionStyle::Timestamp, now()),
        Version::Sqlx(20260715182934)
    );
    assert_eq!(
        empty.next_version(VersionStyle::Sequential, now()),
        Version::Sqlx(1)
    );
    let (_f, seq) = sqlx_set(&["1_a.sql", "2_b.sql"]);
    assert_eq!(
        seq.next_version(VersionStyle::Sequential, now()),
        Version::Sqlx(3)
    );
    assert_eq!(
        seq.next_version(VersionStyle::Timestamp, now()),
        Version::Sqlx(20260715182934)
    );
    // Never at or below the newest version: same second, or a clock behind.
    let (_f, same) = sqlx_set(&["20260715182934_a.sql"]);
    assert_eq!(
        same.next_version(VersionStyle::Timestamp, now()),
        Version::Sqlx(20260715182935)
    );

    let d = Folder::new();
    let set = d.ok(LayoutChoice::Diesel);
    assert_eq!(
        set.next_version(VersionStyle::Timestamp, now()),
        Version::Diesel("202607151829340000".into())
    );
    d.file("2026-07-15-182934-0000_a/up.sql", "SELECT 1;");
    let set = d.ok(LayoutChoice::Auto);
    assert_eq!(
        set.next_version(VersionStyle::Timestamp, now()),
        Version::Diesel("202607151829340001".into())
    );
}

// ---------------------------------------------------------------- planning

#[test]
fn slug_table() {
    let cases = [
        ("add users", "add_users"),
        ("Add users' e-mail!", "add_users_e_mail"),
        ("  Create   TABLE  ", "create_table"),
        ("v2 -> v3", "v2_v3"),
        ("Über Größe", "über_größe"),
        ("snake_case_already", "snake_case_already"),
        ("!!!", ""),
        ("", ""),
    ];
    for (message, slug) in cases {
        assert_eq!(slugify(message), slug, "{message:?}");
    }
}

#[test]
fn plan_sqlx_reversible_and_simple() {
    let (f, set) = sqlx_set(&[]);
    let plan = plan_new(&set, "Add users", true, None, now()).expect("plan");
    assert_eq!(plan.version, Version::Sqlx(20260715182934));
    assert_eq!(plan.up_path, f.dir.join("20260715182934_add_users.up.sql"));
    assert_eq!(
        plan.down_path,
        Some(f.dir.join("20260715182934_add_users.down.sql"))
    );
    assert_eq!(plan.dir_to_create, None);

    let plan = plan_new(&set, "Add users", false, None, now()).expect("plan");
    assert_eq!(plan.up_path, f.dir.join("20260715182934_add_users.sql"));
    assert_eq!(plan.down_path, None);

    // Sequential: inferred from the set, padded as sqlx-cli pads (or as the set does).
    let (f, set) = sqlx_set(&["0001_a.sql", "0002_b.sql"]);
    let plan = plan_new(&set, "c", true, None, now()).expect("plan");
    assert_eq!(plan.version, Version::Sqlx(3));
    assert_eq!(plan.up_path, f.dir.join("0003_c.up.sql"));
    let (f, set) = sqlx_set(&["001_a.sql", "002_b.sql"]);
    let plan = plan_new(&set, "c", false, None, now()).expect("plan");
    assert_eq!(plan.up_path, f.dir.join("003_c.sql"));
    let (f, set) = sqlx_set(&["1_a.sql"]);
    let plan = plan_new(&set, "c", false, Some(VersionStyle::Sequential), now()).expect("plan");
    assert_eq!(plan.up_path, f.dir.join("0002_c.sql"));
    let plan = plan_new(&set, "c", false, Some(VersionStyle::Timestamp), now()).expect("plan");
    assert_eq!(plan.up_path, f.dir.join("20260715182934_c.sql"));
}

#[test]
fn plan_for_a_missing_folder_creates_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("db/migrations");
    let set = MigrationSet::empty(&dir, LayoutChoice::Auto);
    assert_eq!(set.layout, Layout::Sqlx);
    let plan = plan_new(&set, "init", true, None, now()).expect("plan");
    assert_eq!(plan.dir_to_create, Some(dir.clone()));
    assert_eq!(plan.up_path, dir.join("20260715182934_init.up.sql"));
    assert_eq!(
        MigrationSet::empty(&dir, LayoutChoice::Diesel).layout,
        Layout::Diesel
    );
}

#[test]
fn plan_refuses_an_existing_target_and_an_empty_message() {
    let (f, set) = sqlx_set(&["1_a.sql"]);
    let target = f.file("0002_b.up.sql", "exists");
    let error = plan_new(&set, "b", true, None, now()).expect_err("exists");
    assert_eq!(
        error.to_string(),
        format!(
            "{}: already exists; use another message, or remove it first",
            target.display()
        )
    );

    let error = plan_new(&set, " -- ", true, None, now()).expect_err("empty");
    assert!(matches!(&error, SourceError::EmptyMessage { message } if message == " -- "));
    assert!(
        error.to_string().contains("has no letter or digit"),
        "{error}"
    );
}

#[test]
fn plan_diesel() {
    let d = Folder::new();
    d.file("2019-02-26-002946_a/up.sql", "SELECT 1;");
    let set = d.ok(LayoutChoice::Auto);
    let plan = plan_new(&set, "Add posts", true, None, now()).expect("plan");
    let dir = d.dir.join("2026-07-15-182934-0000_add_posts");
    assert_eq!(plan.version, Version::Diesel("202607151829340000".into()));
    assert_eq!(plan.dir_to_create, Some(dir.clone()));
    assert_eq!(plan.up_path, dir.join("up.sql"));
    assert_eq!(plan.down_path, Some(dir.join("down.sql")));
    let plan = plan_new(&set, "x", true, Some(VersionStyle::Timestamp), now()).expect("plan");
    assert_eq!(plan.up_path, d.dir.join("2026-07-15-182934-0000_x/up.sql"));

    // A second migration in the same second gets the next sub-version, as diesel_cli does.
    d.file("2026-07-15-182934-0000_add_posts/up.sql", "SELECT 1;");
    let set = d.ok(LayoutChoice::Auto);
    let plan = plan_new(&set, "more", true, None, now()).expect("plan");
    assert_eq!(plan.version, Version::Diesel("202607151829340001".into()));
    assert_eq!(
        plan.up_path,
        d.dir.join("2026-07-15-182934-0001_more/up.sql")
    );

    let error = plan_new(&set, "x", false, None, now()).expect_err("simple");
    assert_eq!(
        error.to_string(),
        format!(
            "{}: diesel migrations always have a down.sql; run `migrate new` without --simple",
            d.dir.display()
        )
    );
    let error = plan_new(&set, "x", true, Some(VersionStyle::Sequential), now()).expect_err("seq");
    assert!(matches!(error, SourceError::DieselSequential { .. }));
    assert!(error
        .to_string()
        .contains("--sequential works with sqlx migrations only"));
}

#[test]
fn planned_files_read_back_as_the_planned_version() {
    for (layout, reversible) in [
        (LayoutChoice::Sqlx, true),
        (LayoutChoice::Sqlx, false),
        (LayoutChoice::Diesel, true),
    ] {
        let f = Folder::new();
        let set = f.ok(layout);
        let plan = plan_new(&set, "Create users", reversible, None, now()).expect("plan");
        if let Some(dir) = &plan.dir_to_create {
            fs::create_dir_all(dir).expect("mkdir");
        }
        fs::write(&plan.up_path, "CREATE TABLE users ();\n").expect("write");
        if let Some(down) = &plan.down_path {
            fs::write(down, "DROP TABLE users;\n").expect("write");
        }
        let set = f.ok(LayoutChoice::Auto);
        assert_eq!(set.layout, layout.forced().expect("forced"));
        assert_eq!(set.migrations.len(), 1);
        assert_eq!(set.migrations[0].version, plan.version);
        assert_eq!(set.migrations[0].is_reversible(), reversible);
        assert!(set.warnings.is_empty(), "{:?}", set.warnings);
    }
}
