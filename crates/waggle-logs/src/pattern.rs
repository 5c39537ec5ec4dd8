//! CloudWatch Logs filter patterns (FilterLogEvents' `filterPattern`), parsed once and matched
//! against each message. Three forms:
//!
//! - **Terms**: `ERROR "disk full" ?WARN ?FATAL -healthcheck %user-[0-9]+%`. Every plain term
//!   must occur (case-sensitive substring), at least one `?optional` term when there are any, no
//!   `-excluded` term; `%...%` is a regular expression.
//! - **JSON**: `{ $.level = "ERROR" && ($.latency > 100 || $.user.id NOT EXISTS) }` on messages
//!   that are JSON objects. Selectors `$.a.b`, `$.a[0]`, `$.a[*]`; `=` and `!=` against strings
//!   (with `*` wildcards), numbers or `%regex%`; `<`, `<=`, `>`, `>=` against numbers;
//!   `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`, `EXISTS`.
//! - **Space-delimited**: `[ip, user, ..., status = 4* || status = 5*, bytes > 1000]` on messages
//!   split at spaces (a `"quoted"` or `[bracketed]` run is one field); `...` stands for any number
//!   of fields.

use regex_lite::Regex;
use serde_json::Value as Json;

/// CloudWatch's limit on a pattern's length.
pub const MAX_PATTERN_LEN: usize = 1024;
/// Fields of a message considered by a space-delimited pattern (the rest are ignored).
const MAX_DELIMITED_FIELDS: usize = 256;

/// A parsed filter pattern.
#[derive(Debug, Clone)]
pub enum FilterPattern {
    /// The empty pattern: every event.
    All,
    /// Terms, optional terms and exclusions.
    Terms(Terms),
    /// A JSON condition.
    Json(Cond),
    /// A space-delimited pattern.
    Delimited(Delimited),
}

/// A pattern of terms.
#[derive(Debug, Clone, Default)]
pub struct Terms {
    required: Vec<Term>,
    optional: Vec<Term>,
    excluded: Vec<Term>,
}

#[derive(Debug, Clone)]
enum Term {
    Text(String),
    Regex(Regex),
}

impl Term {
    fn matches(&self, message: &str) -> bool {
        match self {
            Self::Text(text) => message.contains(text.as_str()),
            Self::Regex(regex) => regex.is_match(message),
        }
    }
}

/// A condition of a JSON or space-delimited pattern.
#[derive(Debug, Clone)]
pub enum Cond {
    /// Both.
    And(Box<Cond>, Box<Cond>),
    /// Either.
    Or(Box<Cond>, Box<Cond>),
    /// `selector op value`.
    Compare(Selector, Op, Literal),
    /// `selector IS NULL`, `IS TRUE`, `EXISTS`, ...
    Test(Selector, Check),
}

/// What a condition reads: a JSON path, or a named field of a space-delimited pattern.
#[derive(Debug, Clone)]
pub enum Selector {
    /// `$.a.b[0]`.
    Path(Vec<Step>),
    /// A field named in `[...]`.
    Field(String),
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `.key`
    Key(String),
    /// `[n]`
    Index(usize),
    /// `[*]`: any element.
    AnyIndex,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A value to compare with.
#[derive(Debug, Clone)]
pub enum Literal {
    /// A number.
    Number(f64),
    /// A string; `*` matches any run of characters.
    Text(String),
    /// `%regex%`.
    Regex(Regex),
}

/// Tests without a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    /// `IS NULL`
    Null,
    /// `IS TRUE`
    True,
    /// `IS FALSE`
    False,
    /// `EXISTS`
    Exists,
    /// `NOT EXISTS`
    NotExists,
}

/// A space-delimited pattern: the field names (`None` for `...`) and the conditions on them.
#[derive(Debug, Clone)]
pub struct Delimited {
    fields: Vec<Option<String>>,
    conditions: Vec<Cond>,
}

/// Why a pattern does not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid filter pattern: {0}")]
pub struct PatternError(String);

fn error<T>(message: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError(message.into()))
}

impl FilterPattern {
    /// Parses a pattern.
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        if pattern.len() > MAX_PATTERN_LEN {
            return error(format!("a filter pattern has at most {MAX_PATTERN_LEN} characters"));
        }
        let trimmed = pattern.trim();
        if trimmed.is_empty() || trimmed == "\"\"" {
            return Ok(Self::All);
        }
        if trimmed.starts_with('{') {
            let mut parser = Parser::new(trimmed);
            parser.expect('{')?;
            let cond = parser.or_cond(Mode::Json)?;
            parser.expect('}')?;
            parser.end()?;
            return Ok(Self::Json(cond));
        }
        if trimmed.starts_with('[') {
            return parse_delimited(trimmed).map(Self::Delimited);
        }
        parse_terms(trimmed).map(Self::Terms)
    }

    /// True when the message matches.
    pub fn matches(&self, message: &str) -> bool {
        match self {
            Self::All => true,
            Self::Terms(terms) => {
                terms.required.iter().all(|term| term.matches(message))
                    && (terms.optional.is_empty() || terms.optional.iter().any(|term| term.matches(message)))
                    && !terms.excluded.iter().any(|term| term.matches(message))
            }
            Self::Json(cond) => {
                let trimmed = message.trim_start();
                if !trimmed.starts_with('{') && !trimmed.starts_with('[') {
                    return false;
                }
                match serde_json::from_str::<Json>(trimmed) {
                    Ok(json) => eval(cond, &Doc::Json(&json)),
                    Err(_) => false,
                }
            }
            Self::Delimited(delimited) => delimited.matches(message),
        }
    }
}

fn parse_terms(pattern: &str) -> Result<Terms, PatternError> {
    let mut terms = Terms::default();
    let mut chars = pattern.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let (kind, text_start) = match c {
            '?' => (1, start + 1),
            '-' => (2, start + 1),
            _ => (0, start),
        };
        if kind != 0 {
            chars.next();
        }
        let rest = &pattern[text_start..];
        let (term, used) = if let Some(quoted) = rest.strip_prefix('"') {
            let (text, len) = quoted_string(quoted)?;
            (Term::Text(text), len + 1)
        } else if rest.starts_with('%') && rest.len() > 1 {
            let Some(end) = rest[1..].find('%') else { return error("a %regex% term has no closing %") };
            (Term::Regex(regex(&rest[1..1 + end])?), end + 2)
        } else {
            let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
            if len == 0 {
                return error(format!("'{c}' must be followed by a term"));
            }
            (Term::Text(rest[..len].to_owned()), len)
        };
        let end = text_start + used;
        while chars.peek().is_some_and(|&(index, _)| index < end) {
            chars.next();
        }
        match kind {
            1 => terms.optional.push(term),
            2 => terms.excluded.push(term),
            _ => terms.required.push(term),
        }
    }
    Ok(terms)
}

/// A quoted string's text (escapes `\"` and `\\` resolved) and its length including the closing
/// quote; `text` starts after the opening quote.
fn quoted_string(text: &str) -> Result<(String, usize), PatternError> {
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return Ok((out, index + 1)),
            '\\' => match chars.next() {
                Some((_, escaped)) => out.push(escaped),
                None => break,
            },
            c => out.push(c),
        }
    }
    error("a quoted string has no closing quote")
}

fn regex(source: &str) -> Result<Regex, PatternError> {
    if source.is_empty() {
        return error("an empty %regex%");
    }
    Regex::new(source).map_err(|err| PatternError(format!("bad regular expression %{source}%: {err}")))
}

fn parse_delimited(pattern: &str) -> Result<Delimited, PatternError> {
    let mut parser = Parser::new(pattern);
    parser.expect('[')?;
    let mut fields = Vec::new();
    let mut conditions = Vec::new();
    parser.skip_space();
    if parser.eat(']') {
        parser.end()?;
        return Ok(Delimited { fields: vec![None], conditions });
    }
    loop {
        parser.skip_space();
        if parser.rest().starts_with("...") {
            parser.pos += 3;
            fields.push(None);
        } else {
            let name = parser.ident()?;
            parser.skip_space();
            if parser.peek().is_some_and(|c| "=!<>".contains(c)) {
                // `status = 4* || status = 5*`: a condition that starts with this field.
                let op = parser.op()?;
                let literal = parser.literal(Mode::Delimited)?;
                let mut cond = Cond::Compare(Selector::Field(name.clone()), op, literal);
                loop {
                    parser.skip_space();
                    if parser.rest().starts_with("&&") {
                        parser.pos += 2;
                        cond = Cond::And(Box::new(cond), Box::new(parser.comparison(Mode::Delimited)?));
                    } else if parser.rest().starts_with("||") {
                        parser.pos += 2;
                        cond = Cond::Or(Box::new(cond), Box::new(parser.comparison(Mode::Delimited)?));
                    } else {
                        break;
                    }
                }
                conditions.push(cond);
            }
            fields.push(Some(name));
        }
        parser.skip_space();
        if parser.eat(',') {
            continue;
        }
        parser.expect(']')?;
        break;
    }
    parser.end()?;
    for cond in &conditions {
        check_fields(cond, &fields)?;
    }
    Ok(Delimited { fields, conditions })
}

fn check_fields(cond: &Cond, fields: &[Option<String>]) -> Result<(), PatternError> {
    match cond {
        Cond::And(left, right) | Cond::Or(left, right) => {
            check_fields(left, fields)?;
            check_fields(right, fields)
        }
        Cond::Compare(Selector::Field(name), ..) | Cond::Test(Selector::Field(name), _) => {
            if fields.iter().any(|field| field.as_deref() == Some(name)) {
                Ok(())
            } else {
                error(format!("field '{name}' is not named in the pattern"))
            }
        }
        _ => Ok(()),
    }
}

impl Delimited {
    fn matches(&self, message: &str) -> bool {
        let tokens = split_fields(message);
        let mut bound: Vec<(&str, &str)> = Vec::new();
        self.bind(0, &tokens, &mut bound)
    }

    /// Tries every way `...` can split the message; true when one satisfies the conditions.
    fn bind<'a>(&'a self, field: usize, tokens: &[&'a str], bound: &mut Vec<(&'a str, &'a str)>) -> bool {
        let Some(spec) = self.fields.get(field) else {
            return tokens.is_empty() && self.conditions.iter().all(|cond| eval(cond, &Doc::Fields(bound)));
        };
        match spec {
            Some(name) => {
                let Some((first, rest)) = tokens.split_first() else { return false };
                bound.push((name, first));
                let found = self.bind(field + 1, rest, bound);
                bound.pop();
                found
            }
            None => (0..=tokens.len()).any(|skip| self.bind(field + 1, &tokens[skip..], bound)),
        }
    }
}

/// A message's fields: split at spaces; a `"quoted"` or `[bracketed]` run is one field, without
/// its quotes or brackets.
fn split_fields(message: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut rest = message.trim_start();
    while !rest.is_empty() && fields.len() < MAX_DELIMITED_FIELDS {
        let (field, after) = match rest.as_bytes()[0] {
            b'"' => match rest[1..].find('"') {
                Some(end) => (&rest[1..1 + end], &rest[end + 2..]),
                None => (&rest[1..], ""),
            },
            b'[' => match rest[1..].find(']') {
                Some(end) => (&rest[1..1 + end], &rest[end + 2..]),
                None => (&rest[1..], ""),
            },
            _ => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        fields.push(field);
        rest = after.trim_start();
    }
    fields
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Json,
    Delimited,
}

/// A small recursive-descent parser over a pattern's text.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), PatternError> {
        if self.eat(c) { Ok(()) } else { error(format!("expected '{c}' at position {}", self.pos)) }
    }

    fn end(&mut self) -> Result<(), PatternError> {
        self.skip_space();
        if self.rest().is_empty() { Ok(()) } else { error(format!("unexpected text at position {}", self.pos)) }
    }

    fn ident(&mut self) -> Result<String, PatternError> {
        self.skip_space();
        let rest = self.rest();
        let len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '.')).unwrap_or(rest.len());
        if len == 0 {
            return error(format!("expected a field name at position {}", self.pos));
        }
        self.pos += len;
        Ok(rest[..len].to_owned())
    }

    fn or_cond(&mut self, mode: Mode) -> Result<Cond, PatternError> {
        let mut cond = self.and_cond(mode)?;
        loop {
            self.skip_space();
            if self.rest().starts_with("||") {
                self.pos += 2;
                cond = Cond::Or(Box::new(cond), Box::new(self.and_cond(mode)?));
            } else {
                return Ok(cond);
            }
        }
    }

    fn and_cond(&mut self, mode: Mode) -> Result<Cond, PatternError> {
        let mut cond = self.primary(mode)?;
        loop {
            self.skip_space();
            if self.rest().starts_with("&&") {
                self.pos += 2;
                cond = Cond::And(Box::new(cond), Box::new(self.primary(mode)?));
            } else {
                return Ok(cond);
            }
        }
    }

    fn primary(&mut self, mode: Mode) -> Result<Cond, PatternError> {
        if self.eat('(') {
            let cond = self.or_cond(mode)?;
            self.expect(')')?;
            return Ok(cond);
        }
        self.comparison(mode)
    }

    fn comparison(&mut self, mode: Mode) -> Result<Cond, PatternError> {
        let selector = self.selector(mode)?;
        self.skip_space();
        let upper = self.rest().to_ascii_uppercase();
        for (keyword, check) in [
            ("IS NULL", Check::Null),
            ("IS TRUE", Check::True),
            ("IS FALSE", Check::False),
            ("NOT EXISTS", Check::NotExists),
            ("EXISTS", Check::Exists),
        ] {
            if upper.starts_with(keyword) {
                self.pos += keyword.len();
                return Ok(Cond::Test(selector, check));
            }
        }
        let op = self.op()?;
        let literal = self.literal(mode)?;
        if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) && !matches!(literal, Literal::Number(_)) {
            return error("<, <=, > and >= compare with numbers");
        }
        Ok(Cond::Compare(selector, op, literal))
    }

    fn selector(&mut self, mode: Mode) -> Result<Selector, PatternError> {
        self.skip_space();
        if mode == Mode::Delimited {
            return self.ident().map(Selector::Field);
        }
        if !self.rest().starts_with('$') {
            return error(format!("expected a selector such as $.level at position {}", self.pos));
        }
        self.pos += 1;
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Some('.') => {
                    self.pos += 1;
                    let rest = self.rest();
                    let len =
                        rest.find(|c: char| c.is_whitespace() || "[].=!<>&|)(}".contains(c)).unwrap_or(rest.len());
                    if len == 0 {
                        return error(format!("expected a key after '.' at position {}", self.pos));
                    }
                    steps.push(Step::Key(rest[..len].to_owned()));
                    self.pos += len;
                }
                Some('[') => {
                    self.pos += 1;
                    let rest = self.rest();
                    let Some(end) = rest.find(']') else { return error("'[' without ']' in a selector") };
                    let inside = rest[..end].trim();
                    steps.push(if inside == "*" {
                        Step::AnyIndex
                    } else {
                        Step::Index(inside.parse().map_err(|_| PatternError(format!("bad array index [{inside}]")))?)
                    });
                    self.pos += end + 1;
                }
                _ => break,
            }
        }
        if steps.is_empty() {
            return error("a selector needs at least one key, e.g. $.level");
        }
        Ok(Selector::Path(steps))
    }

    fn op(&mut self) -> Result<Op, PatternError> {
        self.skip_space();
        let rest = self.rest();
        let (op, len) = if rest.starts_with("!=") {
            (Op::Ne, 2)
        } else if rest.starts_with("<=") {
            (Op::Le, 2)
        } else if rest.starts_with(">=") {
            (Op::Ge, 2)
        } else if rest.starts_with('=') {
            (Op::Eq, 1)
        } else if rest.starts_with('<') {
            (Op::Lt, 1)
        } else if rest.starts_with('>') {
            (Op::Gt, 1)
        } else {
            return error(format!("expected an operator (=, !=, <, <=, >, >=) at position {}", self.pos));
        };
        self.pos += len;
        Ok(op)
    }

    fn literal(&mut self, mode: Mode) -> Result<Literal, PatternError> {
        self.skip_space();
        let rest = self.rest();
        if let Some(quoted) = rest.strip_prefix('"') {
            let (text, len) = quoted_string(quoted)?;
            self.pos += len + 1;
            return Ok(Literal::Text(text));
        }
        if let Some(inner) = rest.strip_prefix('%') {
            let Some(end) = inner.find('%') else { return error("a %regex% has no closing %") };
            self.pos += end + 2;
            return Ok(Literal::Regex(regex(&inner[..end])?));
        }
        let stops: &[char] = match mode {
            Mode::Json => &[' ', '\t', '\n', '&', '|', ')', '}'],
            Mode::Delimited => &[' ', '\t', '\n', '&', '|', ',', ']'],
        };
        let len = rest.find(stops).unwrap_or(rest.len());
        if len == 0 {
            return error(format!("expected a value at position {}", self.pos));
        }
        self.pos += len;
        let word = &rest[..len];
        Ok(match word.parse::<f64>() {
            Ok(number) if number.is_finite() => Literal::Number(number),
            _ => Literal::Text(word.to_owned()),
        })
    }
}

/// What conditions read from: a JSON document or the bound fields of a space-delimited message.
enum Doc<'a> {
    Json(&'a Json),
    Fields(&'a [(&'a str, &'a str)]),
}

fn eval(cond: &Cond, doc: &Doc<'_>) -> bool {
    match cond {
        Cond::And(left, right) => eval(left, doc) && eval(right, doc),
        Cond::Or(left, right) => eval(left, doc) || eval(right, doc),
        Cond::Compare(selector, op, literal) => match (doc, selector) {
            (Doc::Json(json), Selector::Path(steps)) => {
                let mut values = Vec::new();
                select(json, steps, &mut values);
                values.iter().any(|value| compare_json(value, *op, literal))
            }
            (Doc::Fields(fields), Selector::Field(name)) => fields
                .iter()
                .find(|(field, _)| field == name)
                .is_some_and(|(_, value)| compare_text(value, *op, literal)),
            _ => false,
        },
        Cond::Test(selector, check) => {
            let mut values = Vec::new();
            match (doc, selector) {
                (Doc::Json(json), Selector::Path(steps)) => select(json, steps, &mut values),
                (Doc::Fields(_), _) | (Doc::Json(_), Selector::Field(_)) => return false,
            }
            match check {
                Check::Exists => !values.is_empty(),
                Check::NotExists => values.is_empty(),
                Check::Null => values.iter().any(|value| value.is_null()),
                Check::True => values.contains(&&Json::Bool(true)),
                Check::False => values.contains(&&Json::Bool(false)),
            }
        }
    }
}

fn select<'a>(json: &'a Json, steps: &[Step], out: &mut Vec<&'a Json>) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(json);
        return;
    };
    match (step, json) {
        (Step::Key(key), Json::Object(object)) => {
            if let Some(value) = object.get(key) {
                select(value, rest, out);
            }
        }
        (Step::Index(index), Json::Array(items)) => {
            if let Some(value) = items.get(*index) {
                select(value, rest, out);
            }
        }
        (Step::AnyIndex, Json::Array(items)) => items.iter().for_each(|value| select(value, rest, out)),
        _ => {}
    }
}

fn compare_json(value: &Json, op: Op, literal: &Literal) -> bool {
    match (value, literal) {
        (Json::Number(number), Literal::Number(expected)) => {
            number.as_f64().is_some_and(|number| compare_numbers(number, op, *expected))
        }
        (Json::String(text), _) => compare_text(text, op, literal),
        (Json::Bool(flag), Literal::Text(text)) => match op {
            Op::Eq => text == if *flag { "true" } else { "false" },
            Op::Ne => text != if *flag { "true" } else { "false" },
            _ => false,
        },
        (Json::Number(number), Literal::Text(_) | Literal::Regex(_)) => compare_text(&number.to_string(), op, literal),
        _ => false,
    }
}

fn compare_text(text: &str, op: Op, literal: &Literal) -> bool {
    match literal {
        Literal::Number(expected) => text.parse::<f64>().is_ok_and(|number| compare_numbers(number, op, *expected)),
        Literal::Text(pattern) => match op {
            Op::Eq => glob_matches(pattern, text),
            Op::Ne => !glob_matches(pattern, text),
            _ => false,
        },
        Literal::Regex(regex) => match op {
            Op::Eq => regex.is_match(text),
            Op::Ne => !regex.is_match(text),
            _ => false,
        },
    }
}

fn compare_numbers(value: f64, op: Op, expected: f64) -> bool {
    match op {
        Op::Eq => value == expected,
        Op::Ne => value != expected,
        Op::Lt => value < expected,
        Op::Le => value <= expected,
        Op::Gt => value > expected,
        Op::Ge => value >= expected,
    }
}

/// `*` matches any run of characters; everything else itself.
pub(crate) fn glob_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(found) => rest = &rest[found + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests;
