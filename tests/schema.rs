//! `schema.graphql` is the exported schema, byte for byte.

#[test]
fn schema_file_matches_export() {
    let exported = seatwarden::graphql::sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let stored = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        stored == exported,
        "schema.graphql is stale; regenerate it with `cargo run -- export-schema > schema.graphql`"
    );
}

#[test]
fn export_schema_command_prints_sdl() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_seatwarden")).arg("export-schema").output().unwrap();
    assert!(output.status.success(), "export-schema failed: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8(output.stdout).unwrap(), seatwarden::graphql::sdl());
}
