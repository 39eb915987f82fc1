//! The state directory's own check at start, as ssh checks `~/.ssh`: created 0700 when
//! missing; refused when anyone may write to it; accepted with a warning when its group may
//! write to it or it belongs to another user (a Kubernetes volume mounted with `fsGroup` is
//! root-owned and group-writable: point the bot at a subdirectory it creates itself).

use std::fs;
use std::io;
use std::path::Path;

use super::open::effective_uid;
use super::refusal::{Problem, UnsafePath};

/// Creates the state directory 0700 when it is missing, then checks it. The directory itself
/// may be a symbolic link to a directory (only what the library writes inside it must not be).
/// Returns the warnings an operator should read (group-writable, another owner).
///
/// # Errors
/// An [`UnsafePath`] refusal when it is writable by others, not a directory, or a dangling
/// symbolic link; the OS error when it cannot be created or examined.
pub fn prepare_state_dir(dir: &Path) -> io::Result<Vec<String>> {
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => {
            if let Err(e) = fs::metadata(dir)
                && e.kind() == io::ErrorKind::NotFound
            {
                let target = fs::read_link(dir).ok();
                return Err(UnsafePath::new(dir, Problem::DanglingStateDir { target }).into());
            }
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => super::open::create_private_dir(dir)?,
        Err(e) => return Err(e),
    }
    let meta = fs::metadata(dir)?;
    if !meta.is_dir() {
        let kind = if meta.is_file() {
            "regular file"
        } else {
            "special file"
        };
        return Err(UnsafePath::new(dir, Problem::NotDirectory { kind }).into());
    }
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut warnings = Vec::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = meta.mode() & 0o7777;
        if mode & 0o002 != 0 {
            return Err(UnsafePath::new(dir, Problem::WritableByOthers { mode }).into());
        }
        let shown = crate::escape::escape(&dir.display().to_string()).into_owned();
        if mode & 0o020 != 0 {
            warnings.push(format!(
                "the state directory {shown} is writable by its group (mode {mode:04o}): members \
                 of group {} could plant links in it; run `chmod 700 {shown}`, or point the bot \
                 at a subdirectory it creates itself",
                meta.gid()
            ));
        }
        let us = effective_uid();
        if meta.uid() != us {
            warnings.push(format!(
                "the state directory {shown} belongs to uid {}, not to uid {us} that this \
                 process runs as: that user could plant links in it; point the bot at a \
                 subdirectory it creates itself",
                meta.uid()
            ));
        }
    }
    Ok(warnings)
}
