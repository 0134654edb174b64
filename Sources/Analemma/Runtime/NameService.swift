import CNSS

/// Pins glibc's name-service switch to the modules a static binary has built in, before the first lookup.
///
/// A statically linked glibc program still `dlopen`s any NSS module that `/etc/nsswitch.conf` names and it has
/// not built in (`myhostname`, `resolve`, `mdns4_minimal`, `systemd`, …); a module from the host's glibc of another
/// version aborts the process (`_dl_call_libc_early_init: Assertion 'sym != NULL' failed`). What Lambda's
/// `provided.al2` / `provided.al2023` images list there is not documented, so every function pins the databases
/// it can reach to `files` and `dns` (built into glibc ≥ 2.34) and never reads the host's choice.
/// https://www.gnu.org/software/libc/manual/html_node/NSS-Configuration-File.html
package enum NameService {
    /// Each database a Lambda function may consult, and the built-in modules it is pinned to.
    package static let pinned: [(database: String, modules: String)] = [
        ("hosts", "files dns"), ("networks", "files dns"), ("services", "files"), ("protocols", "files"),
        ("passwd", "files"), ("group", "files"), ("shadow", "files"),
    ]

    /// Applies ``pinned``; returns the databases glibc refused to configure (none on glibc).
    @discardableResult
    package static func pinBuiltInModules() -> [String] {
        pinned.compactMap { entry in __nss_configure_lookup(entry.database, entry.modules) == 0 ? nil : entry.database }
    }
}
