//! Tokens, then a recursive-descent parser; errors name what was not understood and where.

use super::{Expr, FlagKeyword, Literal, NodeSelector, NumberKeyword, Op, TextKeyword};

/// Longest expression accepted (X-Ray's limit for group filters is 2000 characters; the API's is
/// larger). Also bounds the parser's recursion.
const MAX_EXPRESSION_CHARS: usize = 4000;
/// Deepest nesting of parentheses, `!` and braces.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Number(f64),
    Op(Op),
    Not,
    Open,
    Close,
    OpenBrace,
    CloseBrace,
    Comma,
    Colon,
}

fn describe(token: Option<&Token>) -> String {
    match token {
        None => "the end of the expression".into(),
        Some(Token::Word(word)) => format!("{word:?}"),
        Some(Token::Text(text)) => format!("the string {text:?}"),
        Some(Token::Number(number)) => format!("the number {number}"),
        Some(Token::Op(op)) => format!("{:?}", op.spelling()),
        Some(Token::Not) => "\"!\"".into(),
        Some(Token::Open) => "\"(\"".into(),
        Some(Token::Close) => "\")\"".into(),
        Some(Token::OpenBrace) => "\"{\"".into(),
        Some(Token::CloseBrace) => "\"}\"".into(),
        Some(Token::Comma) => "\",\"".into(),
        Some(Token::Colon) => "\":\"".into(),
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut position = 0;
    while position < chars.len() {
        let ch = chars[position];
        let next = chars.get(position + 1).copied();
        position += 1;
        match ch {
            _ if ch.is_whitespace() => {}
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            '{' => tokens.push(Token::OpenBrace),
            '}' => tokens.push(Token::CloseBrace),
            ',' => tokens.push(Token::Comma),
            ':' => tokens.push(Token::Colon),
            '=' => tokens.push(Token::Op(Op::Eq)),
            '!' if next == Some('=') => {
                position += 1;
                tokens.push(Token::Op(Op::Ne));
            }
            '!' => tokens.push(Token::Not),
            '<' | '>' => {
                let equal = next == Some('=');
                if equal {
                    position += 1;
                }
                tokens.push(Token::Op(match (ch, equal) {
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    _ => Op::Ge,
                }));
            }
            '"' | '\'' => {
                let mut value = String::new();
                loop {
                    let Some(&current) = chars.get(position) else {
                        return Err(format!("a string starting at character {} is not closed with {ch}", position));
                    };
                    position += 1;
                    match current {
                        '\\' => {
                            let escaped = chars.get(position).copied();
                            let escaped = escaped.ok_or_else(|| "a string ends with a lone backslash".to_owned())?;
                            position += 1;
                            value.push(escaped);
                        }
                        _ if current == ch => break,
                        _ => value.push(current),
                    }
                }
                tokens.push(Token::Text(value));
            }
            _ if ch.is_ascii_digit()
                || (ch == '-' && next.is_some_and(|next| next.is_ascii_digit() || next == '.')) =>
            {
                let start = position - 1;
                while chars.get(position).is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E'))
                    || (matches!(chars.get(position - 1), Some('e' | 'E')) && chars.get(position) == Some(&'-'))
                {
                    position += 1;
                }
                let literal: String = chars[start..position].iter().collect();
                let number = literal.parse::<f64>().map_err(|_| format!("{literal:?} is not a number"))?;
                if !number.is_finite() {
                    return Err(format!("{literal:?} is not a finite number"));
                }
                tokens.push(Token::Number(number));
            }
            _ if ch.is_alphabetic() || ch == '_' => {
                let start = position - 1;
                while chars.get(position).is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '.')) {
                    position += 1;
                }
                let word: String = chars[start..position].iter().collect();
                let op = match word.to_ascii_uppercase().as_str() {
                    "CONTAINS" => Some(Op::Contains),
                    "BEGINSWITH" => Some(Op::BeginsWith),
                    "ENDSWITH" => Some(Op::EndsWith),
                    _ => None,
                };
                tokens.push(op.map_or(Token::Word(word), Token::Op));
            }
            _ => return Err(format!("unexpected character {ch:?} at position {}", position - 1)),
        }
    }
    Ok(tokens)
}

/// Parses a filter expression. The error says what is wrong, for InvalidRequestException.
pub(crate) fn parse(text: &str) -> Result<Expr, String> {
    if text.chars().count() > MAX_EXPRESSION_CHARS {
        return Err(format!("filter expression is longer than {MAX_EXPRESSION_CHARS} characters"));
    }
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err("filter expression is empty".into());
    }
    let mut parser = Parser { tokens, position: 0, depth: 0, in_node: false };
    let expr = parser.or()?;
    match parser.peek() {
        None => Ok(expr),
        token => Err(format!("unexpected {} after a complete expression", describe(token))),
    }
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
    depth: usize,
    /// Inside `service(...) {}` or `edge(...) {}`.
    in_node: bool,
}

fn is_word(token: Option<&Token>, word: &str) -> bool {
    matches!(token, Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        self.position += 1;
        token
    }

    fn expect(&mut self, wanted: Token, context: &str) -> Result<(), String> {
        match self.next() {
            Some(token) if token == wanted => Ok(()),
            other => Err(format!("expected {} {context}, found {}", describe(Some(&wanted)), describe(other.as_ref()))),
        }
    }

    fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("filter expression nests deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while is_word(self.peek(), "OR") {
            self.next();
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        loop {
            if is_word(self.peek(), "AND") {
                self.next();
            } else if !matches!(self.peek(), Some(Token::Not | Token::Open))
                && !matches!(self.peek(), Some(Token::Word(word)) if !word.eq_ignore_ascii_case("OR"))
            {
                break;
            }
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.deeper()?;
        let expr = match self.next() {
            Some(Token::Not) => Expr::Not(Box::new(self.unary()?)),
            Some(Token::Open) => {
                let inner = self.or()?;
                self.expect(Token::Close, "to close \"(\"")?;
                inner
            }
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("AND") || word.eq_ignore_ascii_case("OR") => {
                return Err(format!("{word} needs an expression on both sides"));
            }
            Some(Token::Word(word)) => self.term(&word)?,
            other => return Err(format!("expected a keyword, \"!\" or \"(\", found {}", describe(other.as_ref()))),
        };
        self.depth -= 1;
        Ok(expr)
    }

    fn term(&mut self, word: &str) -> Result<Expr, String> {
        let lower = word.to_ascii_lowercase();
        if let Some(key) = word.strip_prefix("annotation.").or_else(|| word.strip_prefix("Annotation.")) {
            return self.annotation(key);
        }
        if lower.starts_with("rootcause") {
            return Err(format!(
                "{word}: root-cause filters (rootcause.fault/error/responsetime...) are not supported by waggle"
            ));
        }
        match lower.as_str() {
            "service" => return self.service(),
            "edge" => return self.edge(),
            "group.name" | "group.arn" => return self.group(word, lower == "group.arn"),
            "id" => return Err("id(...) only names a node inside service(...) or edge(...)".into()),
            "json" => return Err("json filters are not supported by waggle".into()),
            _ => {}
        }
        if let Some(keyword) = flag_keyword(&lower) {
            return self.flag(word, keyword);
        }
        if let Some(keyword) = number_keyword(&lower) {
            let (op, literal) = self.comparison(word)?;
            let Literal::Number(value) = literal else {
                return Err(format!("{word} is a number keyword: compare it with a number, e.g. {word} > 1"));
            };
            if !op.is_numeric() {
                return Err(format!("{word} is a number keyword: {} does not apply to it", op.spelling()));
            }
            return Ok(Expr::Number { keyword, op, value });
        }
        if let Some(keyword) = text_keyword(&lower) {
            let (op, literal) = self.comparison(word)?;
            let Literal::Text(value) = literal else {
                return Err(format!("{word} is a string keyword: its value must be quoted, e.g. {word} = \"x\""));
            };
            if !op.is_textual() {
                return Err(format!("{word} is a string keyword: {} does not apply to it", op.spelling()));
            }
            return Ok(Expr::Text { keyword, op, value });
        }
        match lower.as_str() {
            "remote" | "root" | "index" | "coverage" | "message" | "entity" => {
                Err(format!("keyword {word} applies to root causes, which waggle does not support"))
            }
            "true" | "false" => Err(format!("{word} is a value: compare a keyword with it, e.g. ok = {lower}")),
            _ => Err(format!("unknown keyword {word:?}")),
        }
    }

    /// An operator and its value.
    fn comparison(&mut self, word: &str) -> Result<(Op, Literal), String> {
        let op = match self.next() {
            Some(Token::Op(op)) => op,
            other => {
                return Err(format!("{word} needs an operator and a value, found {}", describe(other.as_ref())));
            }
        };
        Ok((op, self.literal(word)?))
    }

    fn literal(&mut self, word: &str) -> Result<Literal, String> {
        match self.next() {
            Some(Token::Number(number)) => Ok(Literal::Number(number)),
            Some(Token::Text(text)) => Ok(Literal::Text(text)),
            Some(Token::Word(value)) if value.eq_ignore_ascii_case("true") => Ok(Literal::Bool(true)),
            Some(Token::Word(value)) if value.eq_ignore_ascii_case("false") => Ok(Literal::Bool(false)),
            Some(Token::Word(value)) => Err(format!("the value {value:?} of {word} must be quoted")),
            other => Err(format!("{word} needs a value, found {}", describe(other.as_ref()))),
        }
    }

    fn flag(&mut self, word: &str, keyword: FlagKeyword) -> Result<Expr, String> {
        if matches!(keyword, FlagKeyword::Inferred | FlagKeyword::First | FlagKeyword::Last) && !self.in_node {
            return Err(format!(
                "{word} describes a service or an edge: use it inside service(...) {{}} or edge(...) {{}}"
            ));
        }
        let op = match self.peek() {
            Some(Token::Op(op)) => *op,
            _ => return Ok(Expr::Flag { keyword, expected: true }),
        };
        self.next();
        if !matches!(op, Op::Eq | Op::Ne) {
            return Err(format!("{word} is a boolean keyword: use {word}, !{word}, {word} = true or {word} = false"));
        }
        let expected = match self.literal(word)? {
            Literal::Bool(value) => value,
            Literal::Text(text) if text.eq_ignore_ascii_case("true") => true,
            Literal::Text(text) if text.eq_ignore_ascii_case("false") => false,
            _ => return Err(format!("{word} is a boolean keyword: compare it with true or false")),
        };
        Ok(Expr::Flag { keyword, expected: expected == (op == Op::Eq) })
    }

    fn annotation(&mut self, key: &str) -> Result<Expr, String> {
        let word = format!("annotation.{key}");
        if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(format!("{word:?}: annotation keys are letters, digits and underscores"));
        }
        let op = match self.peek() {
            Some(Token::Op(op)) => *op,
            _ => return Ok(Expr::Annotation { key: key.to_owned(), comparison: None }),
        };
        self.next();
        let literal = self.literal(&word)?;
        let fits = match &literal {
            Literal::Bool(_) => matches!(op, Op::Eq | Op::Ne),
            Literal::Number(_) => op.is_numeric(),
            Literal::Text(_) => op.is_textual(),
        };
        if !fits {
            return Err(format!("{word}: {} does not apply to {}", op.spelling(), describe_literal(&literal)));
        }
        Ok(Expr::Annotation { key: key.to_owned(), comparison: Some((op, literal)) })
    }

    fn group(&mut self, word: &str, by_arn: bool) -> Result<Expr, String> {
        if self.in_node {
            return Err(format!("{word} cannot be used inside service(...) or edge(...)"));
        }
        let (op, literal) = self.comparison(word)?;
        let (Literal::Text(value), Op::Eq | Op::Ne) = (literal, op) else {
            return Err(format!("{word} takes = or != and a quoted name"));
        };
        Ok(Expr::Group { by_arn, value, equal: op == Op::Eq })
    }

    fn node(&mut self) -> Result<NodeSelector, String> {
        match self.next() {
            Some(Token::Text(name)) => Ok(NodeSelector { name: Some(name), kind: None }),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("id") => {
                self.expect(Token::Open, "after id")?;
                let mut selector = NodeSelector { name: None, kind: None };
                loop {
                    match self.next() {
                        Some(Token::Word(part)) => {
                            self.expect(Token::Colon, &format!("after {part} in id(...)"))?;
                            let Some(Token::Text(value)) = self.next() else {
                                return Err(format!("{part} in id(...) needs a quoted value"));
                            };
                            match part.to_ascii_lowercase().as_str() {
                                "name" => selector.name = Some(value),
                                "type" => selector.kind = Some(value),
                                _ => return Err(format!("id(...) takes name and type, not {part:?}")),
                            }
                        }
                        other => {
                            return Err(format!(
                                "expected name: or type: in id(...), found {}",
                                describe(other.as_ref())
                            ));
                        }
                    }
                    match self.next() {
                        Some(Token::Comma) => {}
                        Some(Token::Close) => break,
                        other => {
                            return Err(format!(
                                "expected \",\" or \")\" in id(...), found {}",
                                describe(other.as_ref())
                            ));
                        }
                    }
                }
                Ok(selector)
            }
            other => Err(format!("expected a quoted service name or id(...), found {}", describe(other.as_ref()))),
        }
    }

    fn node_filter(&mut self, what: &str) -> Result<Option<Box<Expr>>, String> {
        if self.peek() != Some(&Token::OpenBrace) {
            return Ok(None);
        }
        self.next();
        self.in_node = true;
        let inner = self.or();
        self.in_node = false;
        let inner = inner?;
        self.expect(Token::CloseBrace, &format!("to close the filter of {what}"))?;
        Ok(Some(Box::new(inner)))
    }

    fn service(&mut self) -> Result<Expr, String> {
        if self.in_node {
            return Err("service(...) cannot be used inside service(...) or edge(...)".into());
        }
        self.expect(Token::Open, "after service")?;
        let node = if self.peek() == Some(&Token::Close) { None } else { Some(self.node()?) };
        self.expect(Token::Close, "to close service(...)")?;
        Ok(Expr::Service { node, filter: self.node_filter("service(...)")? })
    }

    fn edge(&mut self) -> Result<Expr, String> {
        if self.in_node {
            return Err("edge(...) cannot be used inside service(...) or edge(...)".into());
        }
        self.expect(Token::Open, "after edge")?;
        let from = self.node()?;
        self.expect(Token::Comma, "between the two services of edge(...)")?;
        let to = self.node()?;
        self.expect(Token::Close, "to close edge(...)")?;
        Ok(Expr::Edge { from, to, filter: self.node_filter("edge(...)")? })
    }
}

fn describe_literal(literal: &Literal) -> &'static str {
    match literal {
        Literal::Bool(_) => "a boolean",
        Literal::Number(_) => "a number",
        Literal::Text(_) => "a string",
    }
}

fn flag_keyword(word: &str) -> Option<FlagKeyword> {
    Some(match word {
        "ok" => FlagKeyword::Ok,
        "error" => FlagKeyword::Error,
        "throttle" => FlagKeyword::Throttle,
        "fault" => FlagKeyword::Fault,
        "partial" => FlagKeyword::Partial,
        "inferred" => FlagKeyword::Inferred,
        "first" => FlagKeyword::First,
        "last" => FlagKeyword::Last,
        _ => return None,
    })
}

fn number_keyword(word: &str) -> Option<NumberKeyword> {
    Some(match word {
        "responsetime" => NumberKeyword::ResponseTime,
        "duration" => NumberKeyword::Duration,
        "http.status" => NumberKeyword::HttpStatus,
        _ => return None,
    })
}

fn text_keyword(word: &str) -> Option<TextKeyword> {
    Some(match word {
        "http.url" => TextKeyword::HttpUrl,
        "http.method" => TextKeyword::HttpMethod,
        "http.useragent" => TextKeyword::HttpUserAgent,
        "http.clientip" => TextKeyword::HttpClientIp,
        "user" => TextKeyword::User,
        "name" => TextKeyword::Name,
        "type" => TextKeyword::Type,
        "availabilityzone" => TextKeyword::AvailabilityZone,
        "instance.id" => TextKeyword::InstanceId,
        "resource.arn" => TextKeyword::ResourceArn,
        _ => return None,
    })
}
