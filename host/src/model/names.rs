//! The names a plugin may hand the host: variables, services, functions and
//! packages. Each grammar is what the thing it names allows, no more: a
//! name outside it is refused before it reaches the bash session or the
//! package manager, so it can never be read there as code, an option or a
//! path.

use crate::model::limits::MAX_NAME;

/// A shell variable name a plugin hands the host: [`is_variable_name`],
/// and no longer than any name the host accepts.
pub fn is_shell_name(name: &str) -> bool {
    name.len() <= MAX_NAME && is_variable_name(name)
}

/// A shell variable name as bash reads one (`[A-Za-z_][A-Za-z0-9_]*`), of
/// any length: what the stack's own files (local.conf, ini meta-sections)
/// may name.
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first = chars.next();
    first.is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// A character of a name that becomes part of a file name: a hook's name
/// after `NN-`, a hypervisor driver's name. ASCII letters, digits, `_` and
/// `-` only, so the name can never reach another directory (`/`, `..`) or
/// look like another file (`fake.wasm`).
pub fn is_file_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Variables a plugin may not set whatever it was granted: bash reads them
/// as code (`PS4` under xtrace, `PROMPT_COMMAND`, `BASH_ENV`), as where
/// code is found (`PATH`, `LD_PRELOAD`), or as how trusted code is parsed
/// and run (`IFS`, `SHELLOPTS`, `TMOUT`), and `__hh*` are the session's
/// own. Returns why, or None.
pub fn reserved_variable(name: &str) -> Option<&'static str> {
    const CODE: &[&str] = &[
        "PS0",
        "PS1",
        "PS2",
        "PS3",
        "PS4",
        "PROMPT_COMMAND",
        "ENV",
        "SHELLOPTS",
        "IFS",
        "PATH",
        "CDPATH",
        "GLOBIGNORE",
        "EXECIGNORE",
        "FUNCNEST",
        "TMOUT",
        "OPTIND",
        "OPTERR",
        "INPUTRC",
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "LD_AUDIT",
        "POSIXLY_CORRECT",
    ];
    if name.starts_with("__hh") {
        return Some("it belongs to hookhost's bash session");
    }
    if name.starts_with("BASH") || CODE.contains(&name) {
        return Some("bash or the dynamic linker reads it as code or as where code is found");
    }
    if PROGRAM_CONFIG.contains(&name)
        || PROGRAM_PREFIXES.iter().any(|p| name.starts_with(p))
        || PROGRAM_SINGLES.contains(&name)
        || is_python_variable(name)
    {
        return Some(
            "programs trusted hooks run read it as where their configuration or code is \
             (a plugin could point git, python or pip at files it wrote)",
        );
    }
    None
}

/// Variables programs read as where to find their configuration, plugins or
/// helpers: a plugin that sets one (`HOME` to its `/data`, with a
/// `.gitconfig` there) runs code when a trusted hook runs the program.
/// `XDG_*` and `GIT_CONFIG_KEY_*`/`GIT_CONFIG_VALUE_*` are matched by prefix.
const PROGRAM_CONFIG: [&str; 49] = [
    "HOME",
    "TMPDIR",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "SHELL",
    "NODE_OPTIONS",
    "NODE_PATH",
    "RUBYOPT",
    "RUBYLIB",
    "GNUPGHOME",
    "SSH_ASKPASS",
    "SUDO_ASKPASS",
    "SSH_AUTH_SOCK",
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "GIT_EXEC_PATH",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_TEMPLATE_DIR",
    "GIT_PROXY_COMMAND",
    "GIT_EXTERNAL_DIFF",
    "GIT_PAGER",
    "GIT_EDITOR",
    "GIT_CONFIG",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_PARAMETERS",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONHOME",
    "PYTHONUSERBASE",
    "PERL5LIB",
    "PERL5OPT",
    "PERLLIB",
    "PIP_CONFIG_FILE",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_TRUSTED_HOST",
    "LESSOPEN",
    "LESSCLOSE",
    "MANPAGER",
];

/// Families of such variables, by prefix: git's (where it fetches from,
/// what it runs, what it trusts), the TLS trust of OpenSSL, curl, requests
/// and git (a plugin's CA file would let it read later HTTPS traffic), the
/// dynamic linker's and C library's, and the settings files of package
/// tools and interpreters.
const PROGRAM_PREFIXES: &[&str] = &[
    "XDG_",
    "GIT_",
    "SSL_",
    "OPENSSL_",
    "CURL_",
    "REQUESTS_",
    "LD_",
    "GLIBC_",
    "MALLOC_",
    "GCONV_",
    "PIP_",
    "UV_",
    "NPM_CONFIG_",
    "npm_config_",
    "NODE_",
    "PERL",
    "RUBY",
    "GEM_",
    "BUNDLE_",
    "JAVA_",
    "_JAVA_",
    "JDK_",
    "KRB5",
    "SSH_",
    "SUDO_",
    "DOCKER_",
    "ANSIBLE_",
    "KUBECONFIG",
    "TERMINFO",
];

/// The other programs' settings read from one variable each.
const PROGRAM_SINGLES: &[&str] = &[
    "WGETRC",
    "NETRC",
    "LOCPATH",
    "NLSPATH",
    "HOSTALIASES",
    "RES_OPTIONS",
    "LOCALDOMAIN",
    "CLASSPATH",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "GOPATH",
    "GOFLAGS",
    "AWS_CONFIG_FILE",
    "BOTO_CONFIG",
];

/// Python's own variables (`PYTHONPATH`, `PYTHONSTARTUP`, `PYTHONWARNINGS`,
/// ...): `PYTHON` and a letter. DevStack's `PYTHON3_VERSION` and the like
/// are not Python's.
fn is_python_variable(name: &str) -> bool {
    name.strip_prefix("PYTHON")
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_alphabetic())
}

/// A DevStack service name (`n-cpu`, `q-agt`, `ceilometer-acompute`,
/// `tempest`): a letter or digit, then letters, digits, `_` and `-`. No
/// `,` (it separates `ENABLED_SERVICES`), no leading `-` (a negated entry
/// there), nothing a shell or `[[ =~ ]]` would read specially.
pub fn is_service_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c == '_' || c == '-' || c.is_ascii_alphanumeric())
}

/// A shell function name as a manifest may grant one: a letter or `_`,
/// then letters, digits, `_`, `:`, `.` and `-`.
pub fn is_function_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME
        && chars
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_:.-".contains(c))
}

/// Characters of a package name after the first.
pub fn is_package_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+-._:".contains(c)
}

/// A distribution package name, as dpkg and rpm allow them (`qemu-utils`,
/// `g++`, `libvirt0:amd64`, `NetworkManager`): a letter or digit, then
/// letters, digits and `+ - . _ :`. Never a leading `-` (an option), a `/`
/// (a path or a release), whitespace or a control character, nor a
/// trailing `-` (apt-get reads `name-` as "remove name").
pub fn is_package_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(is_package_char)
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stacks_own_files_may_name_variables_of_any_length() {
        let long = "A".repeat(MAX_NAME + 1);
        assert!(is_variable_name(&long));
        assert!(!is_shell_name(&long), "a plugin's names stay bounded");
        for bad in ["", "1A", "A-B", "A.B", "É"] {
            assert!(!is_variable_name(bad), "{bad}");
        }
    }

    #[test]
    fn file_name_chars_are_letters_digits_underscore_and_dash() {
        assert!("a-Z_0".chars().all(is_file_name_char));
        for bad in ['.', '/', ' ', 'é', '$'] {
            assert!(!is_file_name_char(bad), "{bad}");
        }
    }

    #[test]
    fn shell_names() {
        for ok in ["A", "_x", "NOVA_CONF", "a1"] {
            assert!(is_shell_name(ok), "{ok}");
        }
        for bad in [
            "",
            "1A",
            "A-B",
            "x b[$(id)]",
            "A\n",
            "é",
            &"A".repeat(MAX_NAME + 1),
        ] {
            assert!(!is_shell_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn reserved_variables() {
        for name in ["PS4", "PATH", "BASH_ENV", "BASHOPTS", "__hh_dry_run", "IFS"] {
            assert!(reserved_variable(name).is_some(), "{name}");
        }
        for name in [
            "HOME",
            "GIT_SSH_COMMAND",
            "PYTHONPATH",
            "XDG_CONFIG_HOME",
            "PIP_INDEX_URL",
            "FUNCNEST",
            "EXECIGNORE",
            "SSL_CERT_FILE",
            "REQUESTS_CA_BUNDLE",
            "CURL_CA_BUNDLE",
            "GIT_SSL_NO_VERIFY",
            "GIT_BASE",
            "OPENSSL_CONF",
            "GCONV_PATH",
            "UV_INDEX_URL",
            "CURL_HOME",
            "WGETRC",
            "NETRC",
            "SUDO_EDITOR",
            "GLIBC_TUNABLES",
            "PYTHONWARNINGS",
        ] {
            assert!(reserved_variable(name).is_some(), "{name}");
        }
        for name in [
            "DEST",
            "PS5",
            "MY_PATH",
            "ENABLED_SERVICES",
            "HOMEDIR",
            "PYTHON3_VERSION",
            "SSLX",
        ] {
            assert!(reserved_variable(name).is_none(), "{name}");
        }
    }

    #[test]
    fn devstack_service_names() {
        for ok in [
            "n-cpu",
            "q-agt",
            "s-proxy",
            "ceilometer-acompute",
            "tempest",
            "c-vol",
            "tls-proxy",
        ] {
            assert!(is_service_name(ok), "{ok}");
        }
        for bad in [
            "",
            "-rabbit",
            "a,b",
            "a b",
            "x b[$(id>m)]=1",
            "a.*",
            "n-cpu\n",
            "$X",
        ] {
            assert!(!is_service_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn function_names() {
        assert!(is_function_name("is_service_enabled"));
        assert!(is_function_name("neutron-agent:start.x"));
        for bad in ["", "-x", "a b", "f;id", "1f"] {
            assert!(!is_function_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn package_names() {
        for ok in [
            "qemu-utils",
            "g++",
            "libvirt0:amd64",
            "NetworkManager",
            "R",
            "python3.11",
        ] {
            assert!(is_package_name(ok), "{ok}");
        }
        let bad = [
            "",
            "*",
            "-oDPkg::Pre-Invoke::=touch /x",
            "--force-yes",
            "a/b",
            "a\nb",
            "a b",
            "openssh-server-",
            "~n.*",
            "?x",
            "a=1",
            "@group",
            "a\u{1b}",
        ];
        for name in bad {
            assert!(!is_package_name(name), "{name:?}");
        }
    }
}
