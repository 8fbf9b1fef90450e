//! Format sniffing and header parsing on hand-built and real bytes.

use crate::dump::format::{sniff, sniff_decompressed, Compression, DumpFormat, Sniffed};
use crate::dump::header::{
    is_pg_dump_script, parse_archive, parse_plain, suggest_image, HeaderError, PgVersion,
};

/// An archive header as pg_dump's WriteHead writes it (version 1.16, 4-byte ints).
fn archive_header(format: u8, db: &str, server: &str, pg_dump: &str) -> Vec<u8> {
    let mut b = b"PGDMP".to_vec();
    b.extend([1, 16, 0, 4, 8, format, 0]);
    let int = |b: &mut Vec<u8>, v: i32| {
        b.push(u8::from(v < 0));
        b.extend(v.unsigned_abs().to_le_bytes());
    };
    for v in [5, 4, 3, 1, 11, 126, 0] {
        int(&mut b, v);
    }
    for s in [db, server, pg_dump] {
        int(&mut b, s.len() as i32);
        b.extend(s.as_bytes());
    }
    b
}

#[test]
fn formats_are_told_from_content() {
    let custom = archive_header(1, "shop", "17.2", "17.2");
    assert_eq!(sniff(&custom), Sniffed::Dump(DumpFormat::Custom));
    assert_eq!(
        sniff(&[0x1f, 0x8b, 8, 0]),
        Sniffed::Dump(DumpFormat::Plain(Compression::Gzip))
    );
    assert_eq!(
        sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
        Sniffed::Dump(DumpFormat::Plain(Compression::Zstd))
    );
    let mut tar = vec![0u8; 1024];
    tar[..8].copy_from_slice(b"toc.dat\0");
    tar[257..263].copy_from_slice(b"ustar\0");
    assert_eq!(sniff(&tar), Sniffed::Dump(DumpFormat::Tar));
    tar[..8].copy_from_slice(b"src.rs\0\0");
    assert!(matches!(sniff(&tar), Sniffed::NotADump(w) if w.contains("not a pg_dump tar")));
    for plain in [
        "--\n-- PostgreSQL database dump\n",
        "\u{feff}SET statement_timeout = 0;",
        "  create table t ();",
        "/* hand-written */ SELECT 1;",
        "\\restrict abc\n",
    ] {
        assert_eq!(
            sniff(plain.as_bytes()),
            Sniffed::Dump(DumpFormat::Plain(Compression::None)),
            "{plain:?}"
        );
    }
    // A multi-byte character cut by the sniff window is still text.
    let mut cut = "-- café".as_bytes().to_vec();
    cut.pop();
    assert_eq!(
        sniff(&cut),
        Sniffed::Dump(DumpFormat::Plain(Compression::None))
    );
}

#[test]
fn non_dumps_are_described() {
    assert_eq!(sniff(b""), Sniffed::Empty);
    let describe = |b: &[u8]| match sniff(b) {
        Sniffed::NotADump(what) => what,
        other => panic!("{other:?}"),
    };
    assert_eq!(describe(b"\x89PNG\r\n\x1a\n\0\0"), "a PNG image");
    assert!(describe(b"BZh91AY&SY").contains("bunzip2"));
    assert!(describe(b"PK\x03\x04").contains("zip"));
    assert_eq!(describe(b"hello, world\n"), "text that is not SQL");
    assert_eq!(describe(b"SETTINGS=1\n"), "text that is not SQL");
    assert!(describe(&[0, 1, 2, 3, 250]).starts_with("binary data starting with 00 01 02 03 fa"));
    // Compressed content must be a script.
    assert!(matches!(
        sniff_decompressed(&archive_header(1, "a", "17", "17")),
        Sniffed::NotADump(w) if w.contains("compressed custom format")
    ));
}

#[test]
fn archive_headers_give_versions_and_database() {
    for format in [1, 3, 5] {
        let origin = parse_archive(&archive_header(
            format,
            "shop",
            "16.4 (Debian 16.4-1)",
            "17.2 (Debian 17.2-1.pgdg120+1)",
        ))
        .unwrap();
        assert_eq!(origin.database.as_deref(), Some("shop"));
        assert_eq!(origin.server.as_ref().unwrap().num, 160004);
        assert_eq!(origin.pg_dump.as_ref().unwrap().major(), "17");
        assert_eq!(origin.newest().unwrap().major(), "17");
        assert_eq!(origin.archive_version, Some((1, 16, 0)));
    }
    let full = archive_header(1, "shop", "17.2", "17.2");
    assert_eq!(parse_archive(&full[..30]), Err(HeaderError::Truncated));
    assert_eq!(parse_archive(b"PGDMX"), Err(HeaderError::NoMagic));
    let mut bad = full.clone();
    bad[10] = 9; // format code
    assert!(matches!(parse_archive(&bad), Err(HeaderError::Corrupt(_))));
}

#[test]
fn plain_headers_give_versions() {
    let head = "--\n-- PostgreSQL database dump\n--\n\n\\restrict k\n\n-- Dumped from database version 15.8 (Debian 15.8-0+deb12u1)\n-- Dumped by pg_dump version 17.12\n";
    let origin = parse_plain(head);
    assert_eq!(origin.server.unwrap().to_string(), "15.8");
    assert_eq!(origin.pg_dump.unwrap().num, 170012);
    assert!(is_pg_dump_script(head));
    assert!(!is_pg_dump_script("CREATE TABLE t ();\n"));
}

#[test]
fn versions_order_by_major() {
    let v = |s: &str| PgVersion::parse(s).unwrap();
    assert_eq!(v("9.6.24").num, 90624);
    assert_eq!(v("9.6.24").major(), "9.6");
    assert_eq!(v("18beta1").major(), "18");
    assert!(v("10.1").major_num() > v("9.6.24").major_num());
    assert_eq!(v("17.9").major_num(), v("17.0").major_num());
    assert!(PgVersion::parse("devel").is_none());
}

#[test]
fn suggested_images_keep_the_repository() {
    assert_eq!(
        suggest_image("docker.io/library/postgres:15", "17"),
        "docker.io/library/postgres:17"
    );
    assert_eq!(
        suggest_image("docker.io/library/postgres:15.3-alpine", "17"),
        "docker.io/library/postgres:17-alpine"
    );
    assert_eq!(
        suggest_image("quay.io/sclorg/postgresql-15-c9s", "16"),
        "quay.io/sclorg/postgresql-16-c9s"
    );
    assert_eq!(
        suggest_image("localhost:5000/pg:latest", "17"),
        "docker.io/library/postgres:17"
    );
}
