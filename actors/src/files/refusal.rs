//! [`UnsafePath`]: why a file or directory in the state directory is refused, in words that
//! name the path, what is wrong and what to do.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::escape::escape;

/// What is wrong with a path the library would write.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A symbolic link (dangling or not): nothing is written through a link.
    Symlink {
        /// Where it points, when readable.
        target: Option<PathBuf>,
    },
    /// A regular file with more than one name: a write would change the other names too.
    HardLinked {
        /// How many names the file has.
        links: u64,
    },
    /// Not a regular file (a FIFO, a device, a socket, a directory where a file belongs).
    NotRegular {
        /// What it is instead.
        kind: &'static str,
    },
    /// A directory was expected.
    NotDirectory {
        /// What it is instead.
        kind: &'static str,
    },
    /// Owned by another user than the one this process runs as.
    ForeignOwner {
        /// The owner's uid.
        owner: u32,
        /// This process's effective uid.
        us: u32,
    },
    /// A symbolic link to nothing where the state directory should be.
    DanglingStateDir {
        /// Where it points, when readable.
        target: Option<PathBuf>,
    },
    /// A directory anyone may write to: anyone could plant links in it.
    WritableByOthers {
        /// Its permission bits.
        mode: u32,
    },
}

/// A path refused because writing it could change something outside the state directory or
/// let another user steer our writes. Carried inside an `io::Error` (kind `Other`) by the
/// openers of [`files`](crate::files); find it with [`UnsafePath::find`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct UnsafePath {
    /// The refused path.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: Problem,
}

impl UnsafePath {
    /// A refusal of `path` for `problem`.
    pub fn new(path: &Path, problem: Problem) -> Self {
        Self {
            path: path.to_owned(),
            problem,
        }
    }

    /// The refusal carried by `error`, if it is one.
    pub fn find(error: &io::Error) -> Option<&Self> {
        error.get_ref()?.downcast_ref::<Self>()
    }

    /// Takes the refusal out of `error`, or gives the error back.
    ///
    /// # Errors
    /// `error` itself when it carries no refusal.
    pub fn take(error: io::Error) -> Result<Self, io::Error> {
        if Self::find(&error).is_none() {
            return Err(error);
        }
        let inner = error.into_inner().expect("checked above");
        Ok(*inner.downcast::<Self>().expect("checked above"))
    }
}

impl From<UnsafePath> for io::Error {
    fn from(refusal: UnsafePath) -> Self {
        io::Error::other(refusal)
    }
}

impl UnsafePath {
    /// What is wrong, without the advice: `it is a symbolic link (to /tmp/x)`.
    pub fn what(&self) -> String {
        match &self.problem {
            Problem::Symlink { target: Some(t) } => format!(
                "it is a symbolic link (to {})",
                escape(&t.display().to_string())
            ),
            Problem::Symlink { target: None } => "it is a symbolic link".to_owned(),
            Problem::HardLinked { links } => format!("it has {links} hard links"),
            Problem::NotRegular { kind } => format!("it is a {kind}, not a regular file"),
            Problem::NotDirectory { kind } => format!("it is a {kind}, not a directory"),
            Problem::ForeignOwner { owner, us } => {
                format!("it belongs to uid {owner}, not to uid {us} that this process runs as")
            }
            Problem::DanglingStateDir { target } => format!(
                "it is a symbolic link to {}, which does not exist",
                target
                    .as_ref()
                    .map(|t| escape(&t.display().to_string()).into_owned())
                    .unwrap_or_else(|| "nothing".to_owned())
            ),
            Problem::WritableByOthers { mode } => {
                format!("it is writable by others (mode {mode:04o})")
            }
        }
    }
}

impl fmt::Display for UnsafePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = escape(&self.path.display().to_string()).into_owned();
        write!(f, "refusing {path}: ")?;
        match &self.problem {
            Problem::Symlink { target } => {
                match target {
                    Some(t) => write!(
                        f,
                        "it is a symbolic link (to {})",
                        escape(&t.display().to_string())
                    )?,
                    None => f.write_str("it is a symbolic link")?,
                }
                write!(
                    f,
                    " and nothing is written through a link; remove it (rm {path}) and start again"
                )
            }
            Problem::HardLinked { links } => write!(
                f,
                "it has {links} hard links, so writing it would change the file under its other \
                 names too; remove this name (rm {path}: the other names keep their content) and \
                 start again"
            ),
            Problem::NotRegular { kind } => write!(
                f,
                "it is a {kind}, not a regular file; move it away and start again"
            ),
            Problem::NotDirectory { kind } => write!(
                f,
                "it is a {kind}, not a directory; move it away and start again"
            ),
            Problem::ForeignOwner { owner, us } => write!(
                f,
                "it belongs to uid {owner}, not to uid {us} that this process runs as; \
                 remove it, or chown it to uid {us}, and start again"
            ),
            Problem::DanglingStateDir { target } => {
                let target = target
                    .as_ref()
                    .map(|t| escape(&t.display().to_string()).into_owned())
                    .unwrap_or_else(|| "its target".to_owned());
                write!(
                    f,
                    "the state directory is a symbolic link to {target}, which does not exist; \
                     create that directory (mkdir -m 700 {target}) or use another state directory"
                )
            }
            Problem::WritableByOthers { mode } => write!(
                f,
                "it is writable by others (mode {mode:04o}), so anyone could plant links in it; \
                 run `chmod 700 {path}` and start again"
            ),
        }
    }
}
