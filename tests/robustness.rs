//! Loading never panics: mutated copies of the valid fixtures (truncations, byte flips,
//! insertions of YAML/JSON punctuation, deleted ranges) must each give `Ok` or `Err`.
//! Deterministic: a fixed-seed LCG drives the mutations, so a failure replays exactly.

use std::path::{Path, PathBuf};

use bpharness::contract::SchemaSet;
use bpharness::scenario::{LoadOptions, load_file_with};
use rstest::rstest;

const VALID_DIR: &str = "tests/fixtures/scenarios/valid";
const MUTANTS_PER_FILE: usize = 120;

/// Knuth's MMIX linear congruential generator.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next()).unwrap() % n.max(1)
    }
}

const PUNCTUATION: &[u8] = b":-{}[]\"'\t\n #&*!|>%@`,?\\\x00\xff";

fn mutate(rng: &mut Lcg, original: &[u8]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        let len = bytes.len();
        match rng.below(5) {
            0 => bytes.truncate(rng.below(len + 1)),
            1 if len > 0 => {
                let at = rng.below(len);
                bytes[at] ^= 1 << rng.below(8);
            }
            2 => {
                let at = rng.below(len + 1);
                bytes.insert(at, PUNCTUATION[rng.below(PUNCTUATION.len())]);
            }
            3 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(40)).min(len);
                bytes.drain(start..end);
            }
            _ if len > 0 => {
                // Duplicate a slice in place, e.g. a line or a key.
                let start = rng.below(len);
                let end = (start + 1 + rng.below(60)).min(len);
                let copy = bytes[start..end].to_vec();
                let at = rng.below(bytes.len() + 1);
                bytes.splice(at..at, copy);
            }
            _ => {}
        }
    }
    bytes
}

#[rstest]
fn mutated_fixtures_never_panic() {
    let dir = std::env::temp_dir().join(format!("bpharness-mutants-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let options = LoadOptions::with_schemas(&SchemaSet::load_dir(Path::new("tests/fixtures/schemas")).unwrap());
    let mut files: Vec<PathBuf> = std::fs::read_dir(VALID_DIR)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let mut rng = Lcg(0x5eed_b07e);
    let (mut ok, mut err) = (0, 0);
    for file in &files {
        let original = std::fs::read(file).unwrap();
        let ext = file.extension().unwrap().to_str().unwrap();
        for n in 0..MUTANTS_PER_FILE {
            let mutant = mutate(&mut rng, &original);
            let path = dir.join(format!("mutant-{n}.{ext}"));
            std::fs::write(&path, &mutant).unwrap();
            let outcome = std::panic::catch_unwind(|| load_file_with(&path, &options));
            match outcome {
                Ok(Ok(_)) => ok += 1,
                Ok(Err(error)) => {
                    // Rendering must not panic either.
                    assert!(error.to_string().starts_with("error: "));
                    err += 1;
                }
                Err(_) => {
                    let kept = dir.join(format!("panic-{}", file.file_name().unwrap().to_string_lossy()));
                    std::fs::write(&kept, &mutant).unwrap();
                    panic!(
                        "loading a mutant of {} panicked; kept at {}",
                        file.display(),
                        kept.display()
                    );
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(ok + err, files.len() * MUTANTS_PER_FILE);
    println!("{ok} mutants loaded, {err} were rejected");
    assert!(err > 0, "mutations should break some files");
}
