//! The pages' texts: `locales/{fr,ar}/web.ftl`, apart from the API's messages.
//!
//! Both files define the same messages, and every id the pages use exists in both: tested
//! below by reading the pages' sources, so a missing text is a failed test, not a raw id on
//! a page.

use std::sync::LazyLock;

use fluent_bundle::FluentValue;

use crate::i18n::{bundle_of, format, Bundle, Lang};

static BUNDLES: LazyLock<[Bundle; 2]> = LazyLock::new(|| {
    [
        bundle_of(
            Lang::Fr,
            "web.ftl",
            include_str!("../../locales/fr/web.ftl"),
        ),
        bundle_of(
            Lang::Ar,
            "web.ftl",
            include_str!("../../locales/ar/web.ftl"),
        ),
    ]
});

fn bundle(lang: Lang) -> &'static Bundle {
    match lang {
        Lang::Fr => &BUNDLES[0],
        Lang::Ar => &BUNDLES[1],
    }
}

/// The text `id` in `lang`.
pub(crate) fn t(lang: Lang, id: &str) -> String {
    format(bundle(lang), lang, id, &[])
}

/// The text `id` in `lang`, with `args` put in.
pub(crate) fn ta(lang: Lang, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    format(bundle(lang), lang, id, args)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use fluent_syntax::ast::Entry;

    use super::*;

    fn ids(source: &str) -> BTreeSet<String> {
        let resource = fluent_syntax::parser::parse(source).expect("web.ftl parses");
        resource
            .body
            .iter()
            .filter_map(|entry| match entry {
                Entry::Message(message) => Some(message.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }

    /// The ids in `t(…, "id")` and `ta(…, "id", …)` calls of a source file.
    fn used(source: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for call in ["t(", "ta("] {
            for (at, _) in source.match_indices(call) {
                let preceding = source[..at].chars().next_back();
                if preceding.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = &source[at + call.len()..];
                let Some(args) = rest.split_once(',').map(|(_, args)| args.trim_start()) else {
                    continue;
                };
                if let Some(literal) = args.strip_prefix('"') {
                    if let Some((id, _)) = literal.split_once('"') {
                        found.insert(id.to_owned());
                    }
                }
            }
        }
        found
    }

    #[test]
    fn both_languages_define_the_same_texts() {
        let fr = ids(include_str!("../../locales/fr/web.ftl"));
        let ar = ids(include_str!("../../locales/ar/web.ftl"));
        assert!(!fr.is_empty());
        assert_eq!(
            fr.symmetric_difference(&ar).collect::<Vec<_>>(),
            Vec::<&String>::new()
        );
    }

    #[test]
    fn every_text_the_pages_use_exists() {
        let defined = ids(include_str!("../../locales/fr/web.ftl"));
        let sources = [
            include_str!("mod.rs"),
            include_str!("layout.rs"),
            include_str!("form.rs"),
            include_str!("wizard.rs"),
            include_str!("client.rs"),
            include_str!("agent.rs"),
        ];
        let mut used_ids = BTreeSet::new();
        for source in sources {
            used_ids.extend(used(source));
        }
        assert!(
            used_ids.len() > 50,
            "the scan found too few ids: {used_ids:?}"
        );
        // Ids the pages build at run time, which the scan cannot see.
        let built = [
            "satisfaction-1",
            "satisfaction-2",
            "satisfaction-3",
            "satisfaction-4",
            "satisfaction-5",
            "answer-title",
            "agent-message-title",
            "answer-send",
            "message-send",
            "step-claim",
            "step-contact",
            "step-recap",
            "field-theme",
            "field-company-name",
            "field-last-name",
            "field-first-name",
            "field-address",
            "field-city",
            "auto-close-at",
            "auto-close-at-staff",
        ];
        used_ids.extend(built.iter().map(|id| (*id).to_owned()));
        let missing: Vec<_> = used_ids.difference(&defined).collect();
        assert!(
            missing.is_empty(),
            "texts used but not defined: {missing:?}"
        );
    }

    #[test]
    fn counts_take_the_plural_forms_of_each_language() {
        let plain = |text: String| text.replace(['\u{2068}', '\u{2069}'], "");
        let hours = |h: i64, m: i64| {
            plain(ta(
                Lang::Ar,
                "waited-hours",
                &[("h", h.into()), ("m", m.into())],
            ))
        };
        assert_eq!(hours(2, 3), "ساعتان و3 دقائق");
        assert_eq!(hours(1, 11), "ساعة واحدة و11 دقيقة");
        assert_eq!(hours(0, 2), "0 ساعة ودقيقتان");
        let minutes_only = |m: i64| plain(ta(Lang::Ar, "waited-minutes", &[("m", m.into())]));
        assert_eq!(minutes_only(0), "أقل من دقيقة");
        assert_eq!(minutes_only(2), "دقيقتان");
        let minutes = |n: u64| plain(ta(Lang::Fr, "track-too-many", &[("n", n.into())]));
        assert!(minutes(1).ends_with("dans 1 minute."), "{}", minutes(1));
        assert!(minutes(15).ends_with("dans 15 minutes."), "{}", minutes(15));
        let count = |lang, n: usize| plain(ta(lang, "queue-count", &[("n", n.into())]));
        assert_eq!(count(Lang::Fr, 0), "aucune réclamation en attente");
        assert_eq!(count(Lang::Fr, 2), "2 réclamations en attente");
        assert_eq!(count(Lang::Ar, 5), "5 شكايات في الانتظار");
    }

    #[test]
    fn every_text_has_content_in_both_languages() {
        for lang in Lang::ALL {
            let source = match lang {
                Lang::Fr => include_str!("../../locales/fr/web.ftl"),
                Lang::Ar => include_str!("../../locales/ar/web.ftl"),
            };
            for id in ids(source) {
                let text = ta(lang, &id, &[("n", 3.into()), ("name", "x".into())]);
                assert!(!text.trim().is_empty(), "{lang}: {id} is empty");
            }
        }
    }
}
