//! Build script: fetches the npm packages behind the GraphiQL page at
//! `/graphiql` and the license dashboard at `/dashboard`, verifies each
//! tarball against its pinned integrity hash and extracts the files each page
//! loads into its own folder under `$OUT_DIR`: `graphiql/`, embedded by
//! `src/http/graphiql.rs`, and `dashboard/`, embedded by
//! `src/http/dashboard.rs`, both with `include_bytes!`.
//!
//! Each tarball comes from the first of these that applies:
//!
//! 1. `$SEATWARDEN_ASSETS_DIR`, when set: a folder holding the tarballs under
//!    the names `npm pack` gives them (`react-18.3.1.tgz`). Nothing is
//!    downloaded then, so a build without registry access uses it. A relative
//!    path starts at the package root, where cargo runs build scripts. Fill
//!    the folder with `npm pack graphiql@4.1.2 react@18.3.1 react-dom@18.3.1
//!    uplot@1.6.32 graphql-ws@6.4.2 --pack-destination DIR`, or copy the
//!    cache folder below.
//! 2. The cache folder `$XDG_CACHE_HOME/seatwarden/npm`, or
//!    `$HOME/.cache/seatwarden/npm` when `XDG_CACHE_HOME` is unset. It lies
//!    outside `target/`, so builds after `cargo clean` need no network.
//! 3. `npm pack NAME@VERSION`, which uses the machine's npm registry, proxy
//!    and CA settings. The result is verified, then stored in the cache.
//!
//! Every tarball, cached and local ones included, must match its pinned
//! `sha512-…` integrity string before anything is extracted from it.

use std::collections::HashMap;
use std::env;
use std::fs;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use flate2::read::GzDecoder;
use sha2::{Digest, Sha512};

const ASSETS_DIR_VAR: &str = "SEATWARDEN_ASSETS_DIR";

/// The packages of one page, extracted into `$OUT_DIR/FOLDER/`.
struct Page {
    folder: &'static str,
    packages: &'static [NpmPackage],
}

const PAGES: &[Page] = &[
    Page {
        folder: "graphiql",
        packages: GRAPHIQL_PACKAGES,
    },
    Page {
        folder: "dashboard",
        packages: DASHBOARD_PACKAGES,
    },
];

/// An npm package version pinned by its registry integrity string.
struct NpmPackage {
    name: &'static str,
    version: &'static str,
    /// `dist.integrity` of the registry metadata, as printed by
    /// `npm view NAME@VERSION dist.integrity`.
    integrity: &'static str,
    /// Path of the license text inside the tarball, prepended to the files
    /// that ask for it.
    license: &'static str,
    files: &'static [ExtractedFile],
}

/// A file copied from a package tarball into its page's folder under
/// `$OUT_DIR`.
struct ExtractedFile {
    /// Path inside the tarball; npm tarballs put everything under `package/`.
    entry: &'static str,
    /// File name in the page's folder. The page's module in `src/http/`
    /// embeds and serves the file under this name, so the name carries the
    /// version to keep browser caches correct.
    output: &'static str,
    /// Whether to prepend the package's `LICENSE` as a comment, for bundles
    /// that carry no copyright notice of their own.
    prepend_license: bool,
}

/// GraphiQL 4 ships a UMD bundle that expects the React 18 UMD builds as the
/// globals `React` and `ReactDOM`. The bundle already contains `graphql` and
/// the `graphql-ws` client that `GraphiQL.createFetcher` uses for
/// subscriptions, so no other package is needed. GraphiQL 5 drops this UMD
/// embedding, so stay on 4.x.
const GRAPHIQL_PACKAGES: &[NpmPackage] = &[
    NpmPackage {
        name: "react",
        version: "18.3.1",
        integrity: "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        license: "package/LICENSE",
        files: &[ExtractedFile {
            entry: "package/umd/react.production.min.js",
            output: "react-18.3.1.production.min.js",
            prepend_license: false,
        }],
    },
    NpmPackage {
        name: "react-dom",
        version: "18.3.1",
        integrity: "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        license: "package/LICENSE",
        files: &[ExtractedFile {
            entry: "package/umd/react-dom.production.min.js",
            output: "react-dom-18.3.1.production.min.js",
            prepend_license: false,
        }],
    },
    NpmPackage {
        name: "graphiql",
        version: "4.1.2",
        integrity: "sha512-rNlzQIAzm6i2KBXmVQWBgLvt0TloxFVB2d18bukvdsvjEuFDHsKx5IVOomL1W1o5WW+tE54+ioHb2AEKzO2cUg==",
        license: "package/LICENSE",
        files: &[
            ExtractedFile {
                entry: "package/graphiql.min.js",
                output: "graphiql-4.1.2.min.js",
                prepend_license: true,
            },
            ExtractedFile {
                entry: "package/graphiql.min.css",
                output: "graphiql-4.1.2.min.css",
                prepend_license: true,
            },
        ],
    },
];

/// The dashboard draws its seat curve with uPlot's IIFE build, which defines
/// the global `uPlot`, and subscribes with the UMD build of graphql-ws, the
/// graphql-transport-ws client that defines the global `graphqlWs`. Neither
/// depends on another package.
const DASHBOARD_PACKAGES: &[NpmPackage] = &[
    NpmPackage {
        name: "uplot",
        version: "1.6.32",
        integrity: "sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==",
        license: "package/LICENSE",
        files: &[
            ExtractedFile {
                entry: "package/dist/uPlot.iife.min.js",
                output: "uplot-1.6.32.iife.min.js",
                prepend_license: true,
            },
            ExtractedFile {
                entry: "package/dist/uPlot.min.css",
                output: "uplot-1.6.32.min.css",
                prepend_license: true,
            },
        ],
    },
    NpmPackage {
        name: "graphql-ws",
        version: "6.4.2",
        integrity: "sha512-wxhPhhOGJo8PbGDkBYVE76sZLDrS+GkyrR4bZECSLVbo0pZZNKs0HtBh2Ip/uaUuiVUxwO9ssI9R92buQfNSqQ==",
        license: "package/LICENSE.md",
        files: &[ExtractedFile {
            entry: "package/umd/graphql-ws.min.js",
            output: "graphql-ws-6.4.2.min.js",
            prepend_license: true,
        }],
    },
];

fn main() {
    if let Err(message) = run() {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    // Any rerun-if line replaces cargo's default of rerunning the script after
    // every change in the package. The output depends only on the pins in this
    // file, and cargo reruns the script whenever this file changes. Changing
    // the assets folder reruns it, so the tarballs found there get verified.
    println!("cargo::rerun-if-env-changed={ASSETS_DIR_VAR}");

    let out_dir = PathBuf::from(
        env::var_os("OUT_DIR").ok_or("OUT_DIR is not set. Run this build script through cargo")?,
    );
    let source = TarballSource::from_env(&out_dir);

    for page in PAGES {
        // Start from an empty folder so that a file from a previous pin cannot
        // be embedded by mistake.
        let output_dir = out_dir.join(page.folder);
        remove_dir_if_present(&output_dir)?;
        fs::create_dir_all(&output_dir)
            .map_err(|err| format!("cannot create {}: {err}", output_dir.display()))?;

        for package in page.packages {
            let tarball = source.load(package)?;
            extract(package, &tarball, &output_dir)?;
        }
    }
    Ok(())
}

/// Where tarballs are read from, and written to after a download.
enum TarballSource {
    /// `$SEATWARDEN_ASSETS_DIR`: read only, never downloads.
    AssetsDir(PathBuf),
    /// A persistent cache, filled by `npm pack` on a miss.
    Cache(PathBuf),
    /// No cache location is known (neither `XDG_CACHE_HOME` nor `HOME` is
    /// set), so downloads land under `$OUT_DIR` and last until `cargo clean`.
    BuildOnly(PathBuf),
}

impl TarballSource {
    fn from_env(out_dir: &Path) -> Self {
        if let Some(dir) = env::var_os(ASSETS_DIR_VAR).filter(|value| !value.is_empty()) {
            return Self::AssetsDir(PathBuf::from(dir));
        }

        // The XDG Base Directory specification ignores relative paths.
        let xdg_cache = env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|path| path.is_absolute());
        let cache_root = xdg_cache.or_else(|| {
            env::var_os("HOME")
                .filter(|home| !home.is_empty())
                .map(|home| PathBuf::from(home).join(".cache"))
        });
        match cache_root {
            Some(root) => Self::Cache(root.join("seatwarden").join("npm")),
            None => {
                println!(
                    "cargo::warning=neither XDG_CACHE_HOME nor HOME is set, so npm tarballs are downloaded into OUT_DIR and fetched again after cargo clean"
                );
                Self::BuildOnly(out_dir.join("npm-tarballs"))
            }
        }
    }

    /// Returns the verified tarball of `package`.
    fn load(&self, package: &NpmPackage) -> Result<Vec<u8>, String> {
        let file_name = tarball_file_name(package);
        match self {
            Self::AssetsDir(dir) => load_from_assets_dir(package, &dir.join(&file_name)),
            Self::Cache(dir) | Self::BuildOnly(dir) => {
                let path = dir.join(&file_name);
                if let Some(tarball) = load_cached(package, &path)? {
                    return Ok(tarball);
                }
                download(package, dir, &file_name)
            }
        }
    }
}

fn load_from_assets_dir(package: &NpmPackage, path: &Path) -> Result<Vec<u8>, String> {
    let tarball = fs::read(path).map_err(|err| {
        format!(
            "{} {}: cannot read {} ({err}). {ASSETS_DIR_VAR} is set, so nothing is downloaded: \
             put the tarball there with `npm pack {}@{} --pack-destination <dir>`, or unset {ASSETS_DIR_VAR} to download it",
            package.name,
            package.version,
            path.display(),
            package.name,
            package.version,
        )
    })?;
    verify(package, &tarball).map_err(|actual| {
        format!(
            "{} {}: {} has integrity {actual}, expected {}. Replace it with the tarball from \
             `npm pack {}@{}`, or unset {ASSETS_DIR_VAR} to download it",
            package.name,
            package.version,
            path.display(),
            package.integrity,
            package.name,
            package.version,
        )
    })?;
    Ok(tarball)
}

/// Returns the cached tarball when present and valid. A cached file that
/// fails verification is deleted so that it is downloaded again.
fn load_cached(package: &NpmPackage, path: &Path) -> Result<Option<Vec<u8>>, String> {
    let tarball = match fs::read(path) {
        Ok(tarball) => tarball,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(format!(
                "{} {}: cannot read cached {}: {err}",
                package.name,
                package.version,
                path.display()
            ));
        }
    };
    match verify(package, &tarball) {
        Ok(()) => Ok(Some(tarball)),
        Err(actual) => {
            println!(
                "cargo::warning={} {}: cached {} has integrity {actual}, expected {}. Deleting it and downloading it again",
                package.name,
                package.version,
                path.display(),
                package.integrity,
            );
            fs::remove_file(path).map_err(|err| {
                format!(
                    "{} {}: cannot delete invalid cached {}: {err}",
                    package.name,
                    package.version,
                    path.display()
                )
            })?;
            Ok(None)
        }
    }
}

/// Downloads `package` with `npm pack` into a private folder inside
/// `cache_dir`, verifies it and renames it into the cache. The rename keeps
/// two builds that download at the same time from reading a partial file.
fn download(package: &NpmPackage, cache_dir: &Path, file_name: &str) -> Result<Vec<u8>, String> {
    let label = format!("{} {}", package.name, package.version);
    let staging_dir = cache_dir.join(format!(".download-{}", std::process::id()));
    remove_dir_if_present(&staging_dir)?;
    fs::create_dir_all(&staging_dir).map_err(|err| {
        format!(
            "{label}: cannot create the download folder {} ({err}). Set XDG_CACHE_HOME to a writable folder, \
             or set {ASSETS_DIR_VAR} to a folder holding {file_name}",
            staging_dir.display(),
        )
    })?;

    let result = download_into(package, &staging_dir, cache_dir, file_name);
    // The staging folder holds at most a rejected tarball, so a failure to
    // delete it only wastes disk space.
    let _ = fs::remove_dir_all(&staging_dir);
    result
}

fn download_into(
    package: &NpmPackage,
    staging_dir: &Path,
    cache_dir: &Path,
    file_name: &str,
) -> Result<Vec<u8>, String> {
    let label = format!("{} {}", package.name, package.version);
    let spec = format!("{}@{}", package.name, package.version);
    // `--ignore-scripts` keeps npm from running package lifecycle scripts, and
    // running inside the empty staging folder keeps any package.json around
    // the build from affecting npm.
    let output = Command::new("npm")
        .args(["pack", &spec, "--pack-destination"])
        .arg(staging_dir)
        .args(["--ignore-scripts", "--loglevel=error"])
        .current_dir(staging_dir)
        .output()
        .map_err(|err| {
            format!(
                "{label}: cannot run `npm pack` ({err}). Install npm, or set {ASSETS_DIR_VAR} to a folder holding {file_name}"
            )
        })?;
    if !output.status.success() {
        return Err(format!(
            "{label}: `npm pack {spec}` failed ({}): {}. Check npm's registry access, or set {ASSETS_DIR_VAR} \
             to a folder holding {file_name} downloaded on another machine",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
        ));
    }

    let downloaded = staging_dir.join(file_name);
    let tarball = fs::read(&downloaded).map_err(|err| {
        format!(
            "{label}: `npm pack` succeeded but {} cannot be read: {err}",
            downloaded.display()
        )
    })?;
    verify(package, &tarball).map_err(|actual| {
        format!(
            "{label}: the registry's tarball has integrity {actual}, expected {}. \
             The pin in src/build/main.rs does not match what the registry serves: check the registry \
             npm uses (`npm config get registry`) and `npm view {spec} dist.integrity`",
            package.integrity,
        )
    })?;

    let cached = cache_dir.join(file_name);
    fs::rename(&downloaded, &cached).map_err(|err| {
        format!(
            "{label}: cannot move the download to {}: {err}",
            cached.display()
        )
    })?;
    Ok(tarball)
}

/// Checks `tarball` against the pinned SHA-512 integrity string. On a
/// mismatch, returns the integrity string of `tarball` for the error message.
fn verify(package: &NpmPackage, tarball: &[u8]) -> Result<(), String> {
    let actual = format!("sha512-{}", BASE64.encode(Sha512::digest(tarball)));
    if actual == package.integrity {
        Ok(())
    } else {
        Err(actual)
    }
}

/// Returns the file name `npm pack` writes: `NAME-VERSION.tgz`, with a
/// scope's `@` dropped and its `/` turned into `-`.
fn tarball_file_name(package: &NpmPackage) -> String {
    let name = package.name.trim_start_matches('@').replace('/', "-");
    format!("{name}-{}.tgz", package.version)
}

/// Copies the listed files of a verified tarball into `output_dir`.
fn extract(package: &NpmPackage, tarball: &[u8], output_dir: &Path) -> Result<(), String> {
    let failed = |what: String| format!("{} {}: {what}", package.name, package.version);

    let mut wanted: Vec<&str> = package.files.iter().map(|file| file.entry).collect();
    if package.files.iter().any(|file| file.prepend_license) {
        wanted.push(package.license);
    }

    let mut contents: HashMap<String, Vec<u8>> = HashMap::new();
    let mut archive = tar::Archive::new(GzDecoder::new(tarball));
    let entries = archive
        .entries()
        .map_err(|err| failed(format!("cannot read the tarball: {err}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|err| failed(format!("cannot read the tarball: {err}")))?;
        let path = entry
            .path()
            .map_err(|err| failed(format!("invalid path in the tarball: {err}")))?
            .to_string_lossy()
            .into_owned();
        if !wanted.contains(&path.as_str()) {
            continue;
        }
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|err| failed(format!("cannot read {path} from the tarball: {err}")))?;
        contents.insert(path, data);
    }

    for file in package.files {
        let data = contents.get(file.entry).ok_or_else(|| {
            failed(format!(
                "the tarball has no {}. Fix the file list in src/build/main.rs",
                file.entry
            ))
        })?;
        let mut data = strip_source_map_comment(data);
        if file.prepend_license {
            let license = contents
                .get(package.license)
                .ok_or_else(|| failed(format!("the tarball has no {}", package.license)))?;
            data = with_license_comment(package, license, &data).map_err(failed)?;
        }

        let path = output_dir.join(file.output);
        fs::write(&path, data)
            .map_err(|err| failed(format!("cannot write {}: {err}", path.display())))?;
    }
    Ok(())
}

/// Removes a trailing `//# sourceMappingURL=…` or `/*# sourceMappingURL=…*/`
/// line. The maps are not embedded, so the reference would only make the
/// browser's developer tools request a file that does not exist.
fn strip_source_map_comment(data: &[u8]) -> Vec<u8> {
    let end = data
        .iter()
        .rposition(|byte| !byte.is_ascii_whitespace())
        .map_or(0, |index| index + 1);
    let last_line_start = data[..end]
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |index| index + 1);
    let last_line = &data[last_line_start..end];
    if last_line.starts_with(b"//# sourceMappingURL=")
        || last_line.starts_with(b"/*# sourceMappingURL=")
    {
        data[..last_line_start].to_vec()
    } else {
        data.to_vec()
    }
}

/// Prepends `license` as a `/*! … */` comment, which is valid in JavaScript
/// and CSS and which minifiers keep.
fn with_license_comment(
    package: &NpmPackage,
    license: &[u8],
    data: &[u8],
) -> Result<Vec<u8>, String> {
    let license = String::from_utf8_lossy(license);
    if license.contains("*/") {
        return Err("its LICENSE contains `*/` and cannot be placed in a comment".to_owned());
    }
    let mut result = format!(
        "/*! {} {} from npm, license:\n\n{}\n*/\n",
        package.name,
        package.version,
        license.trim_end()
    )
    .into_bytes();
    result.extend_from_slice(data);
    Ok(result)
}

fn remove_dir_if_present(path: &Path) -> Result<(), String> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(()),
        Err(err) => Err(format!("cannot remove {}: {err}", path.display())),
    }
}
