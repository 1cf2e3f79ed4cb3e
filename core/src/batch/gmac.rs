//! AES-GMAC batches: short messages two at a time through the paired kernel
//! (both tag masks in one VAES chain, both GHASHes in the same carry-less
//! multiplies) where the backend has one and it beats two one-shot calls;
//! every other message through exactly the one-shot path.

use crate::mac::gmac::{Key, NONCE_LEN};
use crate::smb2::SigningKey;

/// One GMAC message of a batch: `head || body` (`head` empty or whole blocks).
pub(super) struct Msg<'a> {
    pub(super) key: &'a Key,
    pub(super) nonce: &'a [u8; NONCE_LEN],
    pub(super) head: &'a [u8],
    pub(super) body: &'a [u8],
}

impl<'a> Msg<'a> {
    /// The message `head || body` under `key`, if `key` is a GMAC key.
    #[inline]
    pub(super) fn of(
        key: &'a SigningKey,
        nonce: &'a [u8; NONCE_LEN],
        head: &'a [u8],
        body: &'a [u8],
    ) -> Option<Msg<'a>> {
        match key {
            SigningKey::AesGmac(key) => Some(Msg {
                key,
                nonce,
                head,
                body,
            }),
            _ => None,
        }
    }

    fn len(&self) -> usize {
        self.head.len() + self.body.len()
    }

    /// Blocks (data, zero padding, length block) of `head || body`.
    fn blocks(&self) -> usize {
        self.len().div_ceil(16) + 1
    }

    /// The one-shot tag ([`Key::mac`]'s computation; the batch call erases
    /// the stack once for all its jobs).
    #[inline]
    fn one_shot(&self) -> [u8; 16] {
        self.key.mac2(self.nonce, self.head, self.body)
    }

    /// The message's data blocks for the paired kernel, `n` blocks with the
    /// length block (which the kernel forms): the body itself when it is all
    /// whole blocks and fills them, else `head || body` zero-padded and
    /// right-aligned in `buf` (leading zero blocks leave GHASH unchanged).
    fn data<'b>(&self, n: usize, buf: &'b mut [u8; 256]) -> &'b [u8]
    where
        Self: 'b,
    {
        let len = self.len();
        if self.head.is_empty() && len == 16 * (n - 1) {
            return self.body;
        }
        let at = 16 * (n - self.blocks());
        let end = 16 * (n - 1);
        buf[..at].fill(0);
        buf[at..at + self.head.len()].copy_from_slice(self.head);
        buf[at + self.head.len()..at + len].copy_from_slice(self.body);
        buf[at + len..end].fill(0);
        &buf[..end]
    }
}

/// Computes `out[i]` for every `Some` message `msgs` yields at position `i`
/// (`None`: not a GMAC job, left alone); returns whether there was a `None`.
#[inline]
pub(super) fn compute<'a>(
    msgs: impl Iterator<Item = Option<Msg<'a>>> + Clone,
    out: &mut [[u8; 16]],
) -> bool {
    // A message pairs when its key's backend has the paired kernel and takes
    // it at this length (`Backend::gmac_pair_pays`; which also
    // guarantees the key holds the powers the kernel reads). The one-shot
    // messages go first in a loop that does nothing else, so a batch that
    // does not pair costs what a loop of one-shot calls costs.
    let (mut others, mut pairs) = (false, false);
    for (m, o) in msgs.clone().zip(out.iter_mut()) {
        match m {
            None => others = true,
            Some(m) if m.key.backend().gmac_pair_pays(m.len()) => pairs = true,
            Some(m) => *o = m.one_shot(),
        }
    }
    if pairs {
        compute_pairs(msgs, out);
    }
    others
}

/// The messages [`compute`] left to the paired kernel, two at a time (an odd
/// one out one-shot).
fn compute_pairs<'a>(msgs: impl Iterator<Item = Option<Msg<'a>>>, out: &mut [[u8; 16]]) {
    let mut waiting: Option<(usize, Msg<'a>)> = None;
    let (mut a, mut b) = ([0u8; 256], [0u8; 256]);
    for (i, m) in msgs.enumerate() {
        let Some(m) = m.filter(|m| m.key.backend().gmac_pair_pays(m.len())) else {
            continue;
        };
        let Some((w, mw)) = waiting.take() else {
            waiting = Some((i, m));
            continue;
        };
        let n = mw.blocks().max(m.blocks());
        let tags = mw.key.backend().gmac_pair(
            [&mw.key.rk, &m.key.rk],
            [mw.key.powers(), m.key.powers()],
            [&Key::j0(mw.nonce), &Key::j0(m.nonce)],
            mw.data(n, &mut a),
            m.data(n, &mut b),
            [mw.len() as u64, m.len() as u64],
        );
        out[w] = tags[0];
        out[i] = tags[1];
    }
    if let Some((w, mw)) = waiting {
        out[w] = mw.one_shot();
    }
}
