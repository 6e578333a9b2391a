//! Reading Kubernetes manifests (multi-document YAML files, or directories of them) into
//! JSON objects, for `charter sandbox --apply` and for tests of `examples/`.

use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid YAML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: document {index} has no apiVersion/kind")]
    NotAnObject { path: PathBuf, index: usize },
}

/// Every object in `path`: a file, or the `.yaml`/`.yml`/`.json` files of a directory in
/// name order (so `00-namespaces.yaml` comes before what lives in those namespaces).
pub fn load(path: &Path) -> Result<Vec<Value>, ManifestError> {
    let read_err = |source| ManifestError::Read {
        path: path.to_path_buf(),
        source,
    };
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(read_err)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "json")
                )
            })
            .collect();
        files.sort();
        let mut objects = Vec::new();
        for file in files {
            objects.extend(load_file(&file)?);
        }
        Ok(objects)
    } else {
        load_file(path)
    }
}

fn load_file(path: &Path) -> Result<Vec<Value>, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(&text).map_err(|e| ManifestError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let mut objects = Vec::new();
    for (index, doc) in docs.into_iter().enumerate() {
        if doc.is_null() {
            continue;
        }
        if doc.get("apiVersion").and_then(Value::as_str).is_none()
            || doc.get("kind").and_then(Value::as_str).is_none()
        {
            return Err(ManifestError::NotAnObject {
                path: path.to_path_buf(),
                index,
            });
        }
        objects.push(doc);
    }
    Ok(objects)
}
