//! The sizes the domain accepts. Lengths of text are counted in Unicode scalar values
//! (`char`s), not bytes, so that French and Arabic texts get the same room.

use std::ops::RangeInclusive;

/// A claim's subject.
pub const SUBJECT: usize = 200;
/// A filing's message, an answer's or a message's body.
pub const MESSAGE: usize = 10_000;
/// A transfer's or a reopening's reason.
pub const REASON: usize = 2_000;
/// A closing comment.
pub const COMMENT: usize = 2_000;
/// Codes and identifiers: claim number, theme, filing place, request number, entity, rule.
pub const CODE: usize = 100;
/// An email address (the longest a mail server is required to handle).
pub const EMAIL: usize = 254;
/// Short contact fields: company name, names, phone, city, country.
pub const CONTACT_FIELD: usize = 200;
/// A postal address.
pub const ADDRESS: usize = 500;
/// An attachment's file name.
pub const FILENAME: usize = 255;
/// The largest attachment: 20 MB, counted as 20 × 1024 × 1024 bytes.
pub const ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;
/// Attachments joined to one filing, answer or message (several files go as one ZIP).
pub const ATTACHMENTS: usize = 10;
/// The satisfaction levels a client may give when closing.
pub const SATISFACTION: RangeInclusive<u8> = 1..=5;
