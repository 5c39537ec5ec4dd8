//! The Logs Insights query language, the commonly used subset: `fields`, `display`, `filter`,
//! `stats` (count, sum, avg, min, max, pct, count_distinct) `by` fields and `bin(5m)`, `sort`,
//! `limit`, `parse` (glob or regex). Commands are separated by `|`.

use regex_lite::Regex;

/// A parsed query.
#[derive(Debug, Clone)]
pub struct Query {
    /// Its commands, in order.
    pub commands: Vec<Command>,
}

/// One command.
#[derive(Debug, Clone)]
pub enum Command {
    /// `fields a, b as c` (also `display`, which only chooses what is shown).
    Fields { items: Vec<(Expr, String)>, display_only: bool },
    /// `filter <condition>`.
    Filter(Expr),
    /// `stats <aggregations> by <groups>`.
    Stats { aggregations: Vec<(Aggregation, String)>, groups: Vec<(Expr, String)> },
    /// `sort a desc, b`.
    Sort(Vec<(Expr, bool)>),
    /// `limit n`.
    Limit(usize),
    /// `parse field "glob * pattern" as a, b` or `parse field /(?<a>re)/`.
    Parse { source: Expr, regex: Regex, names: Vec<String> },
}

/// An aggregation of `stats`.
#[derive(Debug, Clone)]
pub enum Aggregation {
    /// `count(*)` or `count()`: records; `count(f)`: records where `f` is present.
    Count(Option<Expr>),
    /// `count_distinct(f)`.
    CountDistinct(Expr),
    /// `sum(f)`.
    Sum(Expr),
    /// `avg(f)`.
    Avg(Expr),
    /// `min(f)`.
    Min(Expr),
    /// `max(f)`.
    Max(Expr),
    /// `pct(f, p)`: the p-th percentile, nearest rank.
    Pct(Expr, f64),
}

/// An expression.
#[derive(Debug, Clone)]
pub enum Expr {
    /// A field, e.g. `@message` or `user.id`.
    Field(String),
    /// A number.
    Number(f64),
    /// A string.
    Text(String),
    /// A regular expression literal `/.../`.
    Regex(Regex),
    /// `a op b`.
    Binary(Box<Expr>, BinaryOp, Box<Expr>),
    /// `not e`.
    Not(Box<Expr>),
    /// `e in [a, b]`.
    In(Box<Expr>, Vec<Expr>),
    /// `f(args)`.
    Call(String, Vec<Expr>),
    /// `bin(5m)`: the record's `@timestamp` floored to a multiple of this many ms.
    Bin(i64),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BinaryOp {
    /// `and`
    And,
    /// `or`
    Or,
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
    /// `like` (substring, or a regex literal), `=~`
    Like,
    /// `not like`
    NotLike,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

const FUNCTIONS: [&str; 8] = ["ispresent", "isempty", "tolower", "toupper", "strlen", "abs", "floor", "ceil"];

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Field(String),
    Number(f64),
    Text(String),
    Regex(String),
    Symbol(&'static str),
}

/// Why a query does not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct QueryParseError(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, QueryParseError> {
    Err(QueryParseError(message.into()))
}

const SYMBOLS: [&str; 17] = ["!=", "<=", ">=", "=~", "|", ",", "(", ")", "[", "]", "=", "<", ">", "+", "-", "*", "/"];

fn tokenize(text: &str) -> Result<Vec<Token>, QueryParseError> {
    let mut tokens = Vec::new();
    let bytes = text.as_bytes();
    let mut pos = 0;
    while pos < text.len() {
        let c = text[pos..].chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            pos += c.len_utf8();
            continue;
        }
        if c == '#' {
            // A comment runs to the end of the line.
            pos = text[pos..].find('\n').map_or(text.len(), |end| pos + end);
            continue;
        }
        if c == '"' || c == '\'' || c == '`' {
            let mut value = String::new();
            let mut end = None;
            let mut chars = text[pos + 1..].char_indices();
            while let Some((index, next)) = chars.next() {
                if next == '\\' {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                } else if next == c {
                    end = Some(pos + 1 + index + 1);
                    break;
                } else {
                    value.push(next);
                }
            }
            let Some(end) = end else { return fail(format!("unterminated {c} at position {pos}")) };
            tokens.push(if c == '`' { Token::Field(value) } else { Token::Text(value) });
            pos = end;
            continue;
        }
        // `/regex/` where a value is expected (after an operator, `like`, `parse <field>`, `(` or `,`).
        if c == '/' && expects_value(&tokens) {
            let mut source = String::new();
            let mut end = None;
            let mut chars = text[pos + 1..].char_indices();
            while let Some((index, next)) = chars.next() {
                match next {
                    '/' => {
                        end = Some(pos + 1 + index + 1);
                        break;
                    }
                    // `\/` is a slash inside the expression; other escapes are the regex's own.
                    '\\' => match chars.next() {
                        Some((_, '/')) => source.push('/'),
                        Some((_, escaped)) => {
                            source.push('\\');
                            source.push(escaped);
                        }
                        None => source.push('\\'),
                    },
                    other => source.push(other),
                }
            }
            let Some(end) = end else { return fail("unterminated /regex/") };
            tokens.push(Token::Regex(source));
            pos = end;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && bytes.get(pos + 1).is_some_and(u8::is_ascii_digit)) {
            let len = text[pos..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '.')).unwrap_or(text.len() - pos);
            let word = &text[pos..pos + len];
            tokens.push(match word.parse::<f64>() {
                Ok(number) => Token::Number(number),
                Err(_) => Token::Word(word.to_owned()),
            });
            pos += len;
            continue;
        }
        if c.is_alphanumeric() || c == '@' || c == '_' || c == '$' {
            let len = text[pos..]
                .find(|c: char| !(c.is_alphanumeric() || c == '@' || c == '_' || c == '.' || c == '$' || c == '-'))
                .unwrap_or(text.len() - pos);
            // A trailing `-` is a minus, not part of the name.
            let word = text[pos..pos + len].trim_end_matches('-');
            tokens.push(Token::Word(word.to_owned()));
            pos += word.len();
            continue;
        }
        match SYMBOLS.iter().find(|symbol| text[pos..].starts_with(*symbol)) {
            Some(symbol) => {
                tokens.push(Token::Symbol(symbol));
                pos += symbol.len();
            }
            None => return fail(format!("unexpected character '{c}' at position {pos}")),
        }
    }
    Ok(tokens)
}

fn expects_value(tokens: &[Token]) -> bool {
    if let [.., Token::Word(command), _] = tokens
        && command.eq_ignore_ascii_case("parse")
    {
        // `parse @message /re/`
        return true;
    }
    match tokens.last() {
        None => true,
        Some(Token::Symbol(symbol)) => !matches!(*symbol, ")" | "]"),
        Some(Token::Word(word)) => {
            let lower = word.to_ascii_lowercase();
            matches!(lower.as_str(), "like" | "and" | "or" | "not" | "filter" | "in")
        }
        // `parse @message /re/`
        Some(Token::Field(_)) => true,
        _ => false,
    }
}

/// Parses a query string.
pub fn parse_query(text: &str) -> Result<Query, QueryParseError> {
    let tokens = tokenize(text)?;
    let mut commands = Vec::new();
    for part in tokens.split(|token| *token == Token::Symbol("|")) {
        if part.is_empty() {
            return fail("empty command between '|'");
        }
        let mut parser = Parser { tokens: part, pos: 0 };
        commands.push(parser.command()?);
        if parser.pos < part.len() {
            return fail(format!("unexpected {:?} in command", part[parser.pos]));
        }
    }
    if commands.is_empty() {
        return fail("the query is empty");
    }
    Ok(Query { commands })
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn keyword(&mut self, word: &str) -> bool {
        if let Some(Token::Word(found)) = self.peek()
            && found.eq_ignore_ascii_case(word)
        {
            self.pos += 1;
            return true;
        }
        false
    }

    fn symbol(&mut self, symbol: &str) -> bool {
        if self.peek()
            == Some(&Token::Symbol(match symbol {
                "," => ",",
                "(" => "(",
                ")" => ")",
                "[" => "[",
                "]" => "]",
                "*" => "*",
                _ => return false,
            }))
        {
            self.pos += 1;
            return true;
        }
        false
    }

    fn expect(&mut self, symbol: &str) -> Result<(), QueryParseError> {
        if self.symbol(symbol) { Ok(()) } else { fail(format!("expected '{symbol}'")) }
    }

    fn name(&mut self) -> Result<String, QueryParseError> {
        match self.next() {
            Some(Token::Word(word) | Token::Field(word)) => Ok(word),
            other => fail(format!("expected a field name, found {other:?}")),
        }
    }

    fn command(&mut self) -> Result<Command, QueryParseError> {
        let Some(Token::Word(word)) = self.next() else { return fail("a command starts with its name") };
        match word.to_ascii_lowercase().as_str() {
            "fields" | "display" => {
                let items = self.aliased_list()?;
                Ok(Command::Fields { items, display_only: word.eq_ignore_ascii_case("display") })
            }
            "filter" => Ok(Command::Filter(self.expr()?)),
            "stats" => self.stats(),
            "sort" => {
                let mut keys = Vec::new();
                loop {
                    let expr = self.additive()?;
                    let descending = if self.keyword("desc") {
                        true
                    } else {
                        self.keyword("asc");
                        false
                    };
                    keys.push((expr, descending));
                    if !self.symbol(",") {
                        return Ok(Command::Sort(keys));
                    }
                }
            }
            "limit" => match self.next() {
                Some(Token::Number(number)) if number >= 1.0 && number.fract() == 0.0 => {
                    Ok(Command::Limit(number as usize))
                }
                other => fail(format!("limit takes a positive integer, not {other:?}")),
            },
            "parse" => self.parse_command(),
            other => fail(format!(
                "unknown command '{other}' (waggle knows fields, display, filter, stats, sort, limit, parse)"
            )),
        }
    }

    fn aliased_list(&mut self) -> Result<Vec<(Expr, String)>, QueryParseError> {
        let mut items = Vec::new();
        loop {
            let start = self.pos;
            let expr = self.additive()?;
            let name = if self.keyword("as") { self.name()? } else { self.source_text(start) };
            items.push((expr, name));
            if !self.symbol(",") {
                return Ok(items);
            }
        }
    }

    /// How an unnamed expression is titled: its tokens put back together.
    fn source_text(&self, start: usize) -> String {
        let mut text = String::new();
        for token in &self.tokens[start..self.pos] {
            match token {
                Token::Word(word) | Token::Field(word) => text.push_str(word),
                Token::Number(number) => text.push_str(&number.to_string()),
                Token::Text(value) => text.push_str(&format!("\"{value}\"")),
                Token::Regex(source) => text.push_str(&format!("/{source}/")),
                Token::Symbol(symbol) => {
                    text.push_str(symbol);
                    if *symbol == "," {
                        text.push(' ');
                    }
                }
            }
        }
        text
    }

    fn stats(&mut self) -> Result<Command, QueryParseError> {
        let mut aggregations = Vec::new();
        loop {
            let start = self.pos;
            let aggregation = self.aggregation()?;
            let name = if self.keyword("as") { self.name()? } else { self.source_text(start) };
            aggregations.push((aggregation, name));
            if !self.symbol(",") {
                break;
            }
        }
        let groups = if self.keyword("by") { self.aliased_list()? } else { Vec::new() };
        Ok(Command::Stats { aggregations, groups })
    }

    fn aggregation(&mut self) -> Result<Aggregation, QueryParseError> {
        let function = self.name()?.to_ascii_lowercase();
        self.expect("(")?;
        let aggregation = match function.as_str() {
            "count" => {
                if self.symbol("*") || self.peek() == Some(&Token::Symbol(")")) {
                    Aggregation::Count(None)
                } else {
                    Aggregation::Count(Some(self.additive()?))
                }
            }
            "count_distinct" => Aggregation::CountDistinct(self.additive()?),
            "sum" => Aggregation::Sum(self.additive()?),
            "avg" => Aggregation::Avg(self.additive()?),
            "min" => Aggregation::Min(self.additive()?),
            "max" => Aggregation::Max(self.additive()?),
            "pct" | "percentile" => {
                let expr = self.additive()?;
                self.expect(",")?;
                match self.next() {
                    Some(Token::Number(percent)) if (0.0..=100.0).contains(&percent) => Aggregation::Pct(expr, percent),
                    other => return fail(format!("pct takes a percentile from 0 to 100, not {other:?}")),
                }
            }
            other => {
                return fail(format!(
                    "unknown stats function '{other}' (waggle knows count, count_distinct, sum, avg, min, max, pct)"
                ));
            }
        };
        self.expect(")")?;
        Ok(aggregation)
    }

    fn parse_command(&mut self) -> Result<Command, QueryParseError> {
        let source = match self.peek() {
            Some(Token::Text(_) | Token::Regex(_)) => Expr::Field("@message".into()),
            _ => Expr::Field(self.name()?),
        };
        match self.next() {
            Some(Token::Text(glob)) => {
                if !self.keyword("as") {
                    return fail("parse with a glob pattern names its fields: parse @message \"* *\" as a, b");
                }
                let mut names = vec![self.name()?];
                while self.symbol(",") {
                    names.push(self.name()?);
                }
                let stars = glob.matches('*').count();
                if stars != names.len() {
                    return fail(format!("the pattern has {stars} '*' but {} names follow 'as'", names.len()));
                }
                let parts: Vec<String> = glob.split('*').map(regex_escape).collect();
                let last = parts.len() - 1;
                let mut source_regex = String::new();
                for (index, part) in parts.iter().enumerate() {
                    source_regex.push_str(part);
                    if index < last {
                        // A trailing `*` takes the rest of the text; the others as little as they can.
                        let greedy = index + 1 == last && parts[last].is_empty();
                        source_regex.push_str(if greedy { "(.*)" } else { "(.*?)" });
                    }
                }
                let regex =
                    Regex::new(&source_regex).map_err(|err| QueryParseError(format!("bad parse pattern: {err}")))?;
                Ok(Command::Parse { source, regex, names })
            }
            Some(Token::Regex(source_regex)) => {
                let regex = Regex::new(&source_regex)
                    .map_err(|err| QueryParseError(format!("bad regular expression: {err}")))?;
                let names: Vec<String> = regex.capture_names().flatten().map(str::to_owned).collect();
                if names.is_empty() {
                    return fail("parse with a regular expression names its fields with (?<name>...)");
                }
                Ok(Command::Parse { source, regex, names })
            }
            other => fail(format!("parse takes a \"glob\" or a /regex/, not {other:?}")),
        }
    }

    fn expr(&mut self) -> Result<Expr, QueryParseError> {
        let mut left = self.and_expr()?;
        while self.keyword("or") {
            left = Expr::Binary(Box::new(left), BinaryOp::Or, Box::new(self.and_expr()?));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, QueryParseError> {
        let mut left = self.not_expr()?;
        while self.keyword("and") {
            left = Expr::Binary(Box::new(left), BinaryOp::And, Box::new(self.not_expr()?));
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<Expr, QueryParseError> {
        if self.keyword("not") {
            return Ok(Expr::Not(Box::new(self.not_expr()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, QueryParseError> {
        let left = self.additive()?;
        let op = match self.peek() {
            Some(Token::Symbol("=")) => BinaryOp::Eq,
            Some(Token::Symbol("!=")) => BinaryOp::Ne,
            Some(Token::Symbol("<")) => BinaryOp::Lt,
            Some(Token::Symbol("<=")) => BinaryOp::Le,
            Some(Token::Symbol(">")) => BinaryOp::Gt,
            Some(Token::Symbol(">=")) => BinaryOp::Ge,
            Some(Token::Symbol("=~")) => BinaryOp::Like,
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("like") => BinaryOp::Like,
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("in") => {
                self.pos += 1;
                return Ok(Expr::In(Box::new(left), self.list()?));
            }
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("not") => {
                self.pos += 1;
                if self.keyword("like") {
                    return Ok(Expr::Binary(Box::new(left), BinaryOp::NotLike, Box::new(self.additive()?)));
                }
                if self.keyword("in") {
                    return Ok(Expr::Not(Box::new(Expr::In(Box::new(left), self.list()?))));
                }
                return fail("expected 'like' or 'in' after 'not'");
            }
            _ => return Ok(left),
        };
        self.pos += 1;
        Ok(Expr::Binary(Box::new(left), op, Box::new(self.additive()?)))
    }

    fn list(&mut self) -> Result<Vec<Expr>, QueryParseError> {
        self.expect("[")?;
        let mut items = vec![self.additive()?];
        while self.symbol(",") {
            items.push(self.additive()?);
        }
        self.expect("]")?;
        Ok(items)
    }

    fn additive(&mut self) -> Result<Expr, QueryParseError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Some(Token::Symbol("+")) => BinaryOp::Add,
                Some(Token::Symbol("-")) => BinaryOp::Sub,
                _ => return Ok(left),
            };
            self.pos += 1;
            left = Expr::Binary(Box::new(left), op, Box::new(self.multiplicative()?));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, QueryParseError> {
        let mut left = self.atom()?;
        loop {
            let op = match self.peek() {
                Some(Token::Symbol("*")) => BinaryOp::Mul,
                Some(Token::Symbol("/")) => BinaryOp::Div,
                _ => return Ok(left),
            };
            self.pos += 1;
            left = Expr::Binary(Box::new(left), op, Box::new(self.atom()?));
        }
    }

    fn atom(&mut self) -> Result<Expr, QueryParseError> {
        match self.next() {
            Some(Token::Number(number)) => Ok(Expr::Number(number)),
            Some(Token::Symbol("-")) => match self.next() {
                Some(Token::Number(number)) => Ok(Expr::Number(-number)),
                other => fail(format!("expected a number after '-', found {other:?}")),
            },
            Some(Token::Text(text)) => Ok(Expr::Text(text)),
            Some(Token::Regex(source)) => Regex::new(&source)
                .map(Expr::Regex)
                .map_err(|err| QueryParseError(format!("bad regular expression /{source}/: {err}"))),
            Some(Token::Field(name)) => Ok(Expr::Field(name)),
            Some(Token::Symbol("(")) => {
                let expr = self.expr()?;
                self.expect(")")?;
                Ok(expr)
            }
            Some(Token::Word(word)) => {
                if self.peek() != Some(&Token::Symbol("(")) {
                    return Ok(Expr::Field(word));
                }
                self.pos += 1;
                let function = word.to_ascii_lowercase();
                if function == "bin" {
                    let period = match self.next() {
                        Some(Token::Word(text)) => parse_period(&text),
                        Some(Token::Number(seconds)) => Some((seconds * 1000.0) as i64),
                        _ => None,
                    };
                    let Some(period) = period.filter(|period| *period > 0) else {
                        return fail("bin takes a period such as 30s, 5m, 1h or 1d");
                    };
                    self.expect(")")?;
                    return Ok(Expr::Bin(period));
                }
                if !FUNCTIONS.contains(&function.as_str()) {
                    return fail(format!("unknown function '{word}' (waggle knows bin, {})", FUNCTIONS.join(", ")));
                }
                let mut args = vec![self.additive()?];
                while self.symbol(",") {
                    args.push(self.additive()?);
                }
                self.expect(")")?;
                Ok(Expr::Call(function, args))
            }
            other => fail(format!("expected a field, value or function, found {other:?}")),
        }
    }
}

/// `100ms`, `30s`, `5m`, `1h`, `1d`, `1w` in milliseconds.
fn parse_period(text: &str) -> Option<i64> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().ok()?;
    let unit_ms = match unit {
        "ms" => 1,
        "s" | "sec" | "second" | "seconds" => 1000,
        "m" | "min" | "minute" | "minutes" => 60_000,
        "h" | "hr" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        "w" | "week" | "weeks" => 604_800_000,
        _ => return None,
    };
    number.checked_mul(unit_ms)
}

fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
