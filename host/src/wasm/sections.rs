//! What a component's binary says about itself, beyond what loading
//! checks: its top-level imports and exports, the manifest `hookhost build`
//! embedded in it, and the tools that produced it.

use wasmparser::{KnownCustom, Parser, Payload};

/// The custom section `hookhost build` embeds a plugin's manifest in, so a
/// component says what it requests even without its `.toml` beside it.
pub const MANIFEST_SECTION: &str = "hookhost:manifest";

/// What the binary itself says, beyond what loading checked.
#[derive(Default)]
pub struct Sections {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    pub embedded_manifest: Option<String>,
    pub producers: Vec<String>,
}

/// The top-level imports and exports, the embedded manifest, and the
/// producers entries of every nesting level.
pub fn read_sections(bytes: &[u8]) -> Result<Sections, wasmparser::BinaryReaderError> {
    let mut found = Sections::default();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    found.imports.push(import?.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    found.exports.push(export?.name.name.to_string());
                }
            }
            Payload::CustomSection(section) => {
                if section.name() == MANIFEST_SECTION && depth == 1 {
                    found.embedded_manifest =
                        Some(String::from_utf8_lossy(section.data()).into_owned());
                } else if let KnownCustom::Producers(reader) = section.as_known() {
                    add_producers(&mut found.producers, reader);
                }
            }
            _ => {}
        }
    }
    Ok(found)
}

fn add_producers(into: &mut Vec<String>, reader: wasmparser::ProducersSectionReader) {
    for field in reader.into_iter().flatten() {
        if field.name == "sdk" {
            continue;
        }
        for value in field.values.into_iter().flatten() {
            let entry = format!("{} {}", value.name, value.version)
                .trim()
                .to_string();
            if !into.contains(&entry) {
                into.push(entry);
            }
        }
    }
}
