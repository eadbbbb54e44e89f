//! The protobuf wire format, just enough to read a message: varints, fixed-size and
//! length-delimited fields, unknown ones skipped, nothing malformed trusted. Used to read a
//! collector's response (`response`) and, for tests, request bodies (`otlp_read`).

/// Protobuf wire format, just enough to read a message: varints, fixed-size and
/// length-delimited fields.
pub(crate) struct Wire<'a>(pub(crate) &'a [u8]);

pub(crate) enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    /// A fixed-size value (a double, a fixed64 or fixed32): skipped.
    Fixed,
}

impl<'a> Wire<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for i in 0..10 {
            let (&byte, rest) = self.0.split_first()?;
            self.0 = rest;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    /// One field: its number and value; `None` on anything malformed.
    pub(crate) fn field(&mut self) -> Option<(u64, Value<'a>)> {
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => self.take(8).map(|_| Value::Fixed)?,
            2 => {
                let len = usize::try_from(self.varint()?).ok()?;
                Value::Bytes(self.take(len)?)
            }
            5 => self.take(4).map(|_| Value::Fixed)?,
            _ => return None, // groups (deprecated) and invalid wire types
        };
        Some((key >> 3, value))
    }
}
