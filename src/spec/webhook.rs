//! `webhook { secret-file …; listen …; tag-prefix … }`: a GitHub push of a
//! tag, signed with the secret, deploys that tag.

use miette::SourceSpan;

use super::keywords::Keyword;
use super::proxy::listen_arg;
use super::{check, values, NodeReader, Spanned};
use crate::diagnostic::{Problems, SpecError};

/// The `webhook` block as written.
#[derive(Debug, Clone)]
pub struct WebhookSpec {
    /// The file holding the secret GitHub signs deliveries with (None when
    /// missing or invalid, which is reported).
    pub secret_file: Option<Spanned<String>>,
    /// `listen`: the address (empty: every address) and port webhook serves on.
    pub listen: Option<(String, Spanned<u16>)>,
    /// `tag-prefix`: only tags starting with it deploy.
    pub tag_prefix: Option<Spanned<String>>,
    /// The block, for errors about it as a whole.
    pub span: SourceSpan,
}

/// The keywords of the `webhook` block: each may be given once.
#[derive(Debug, Clone, Copy)]
enum WebhookKeyword {
    SecretFile,
    Listen,
    TagPrefix,
}

const KEYWORDS: &[Keyword<WebhookKeyword>] = &[
    Keyword::once("secret-file", WebhookKeyword::SecretFile),
    Keyword::once("listen", WebhookKeyword::Listen),
    Keyword::once("tag-prefix", WebhookKeyword::TagPrefix),
];

const USAGE: &str = "webhook { secret-file \"/etc/greenlight/webhook-secret\" }";

/// Decodes the `webhook` block; `secret-file` is required.
pub fn decode(problems: &mut Problems, reader: &NodeReader) -> WebhookSpec {
    reader.shape(problems, 0, 0, &[], USAGE);
    let mut webhook = WebhookSpec {
        secret_file: None,
        listen: None,
        tag_prefix: None,
        span: reader.span(),
    };
    let mut secret_written = false;
    for (keyword, node) in reader.children(problems, KEYWORDS) {
        let r = NodeReader::new(node);
        r.no_children(problems);
        match keyword {
            WebhookKeyword::SecretFile => {
                secret_written = true;
                r.shape(
                    problems,
                    1,
                    1,
                    &[],
                    "secret-file \"/etc/greenlight/webhook-secret\"",
                );
                webhook.secret_file = r.string_arg(problems, 0).filter(|f| {
                    check(
                        problems,
                        f.span,
                        values::path(&f.value, "secret-file", true),
                    )
                });
            }
            WebhookKeyword::Listen => {
                r.shape(
                    problems,
                    1,
                    1,
                    &[],
                    "listen 9000 (or listen \"127.0.0.1:9000\")",
                );
                webhook.listen = listen_arg(problems, &r);
            }
            WebhookKeyword::TagPrefix => {
                r.shape(problems, 1, 1, &[], "tag-prefix \"v\"");
                webhook.tag_prefix = r
                    .string_arg(problems, 0)
                    .filter(|p| check(problems, p.span, values::tag(&p.value)));
            }
        }
    }
    if !secret_written {
        problems.push(
            SpecError::new(
                reader.name_span(),
                "`webhook` has no `secret-file`",
                "needs a secret-file",
            )
            .help(format!(
                "every delivery must be signed with a secret that GitHub and this machine share: write {USAGE}"
            )),
        );
    }
    webhook
}
