//! Batches of PDUs: every PDU of every compound chain becomes one job of the
//! batch engine (its header copy as a run of its own, then its body), so a
//! list of chains is signed or verified in one pass through the lanes.

use core::ops::{Deref, DerefMut};

use super::engine::compute;
use super::item::Item;
use crate::error::{Error, Result};
use crate::scrub::{self, Bytes};
use crate::smb2::chain::{self, Pdu};
use crate::smb2::header::{nonce_of, u32_at, FLAGS_OFFSET};
use crate::smb2::{mac_header, SigningKey, FLAGS_SIGNED, SIGNATURE_LEN, SIGNATURE_OFFSET};

/// One PDU or compound chain of a batch, with the key that signs it.
#[derive(Debug)]
pub struct PduJob<'k, B> {
    /// The session's signing key.
    pub key: &'k SigningKey,
    /// The PDU or compound chain: `&mut [u8]` to sign, `&[u8]` to verify.
    pub pdu: B,
}

/// The PDUs of each job's chain (one walk; signatures are computed from these
/// header copies and this layout), or why the chain is malformed.
fn parse(buf: &[u8]) -> Result<Vec<Pdu>> {
    let mut pdus = Vec::new();
    chain::walk(&[buf], |p| pdus.push(p))?;
    Ok(pdus)
}

/// The signature of each listed PDU (its key, its chain's buffer, the walked
/// PDU), in order.
fn signatures(pdus: &[(&SigningKey, &[u8], &Pdu)], sign: bool) -> Vec<[u8; 16]> {
    let headers: Vec<[u8; 64]> = pdus
        .iter()
        .map(|(_, _, p)| mac_header(&p.header, sign))
        .collect();
    let items: Vec<Item<'_>> = pdus
        .iter()
        .zip(&headers)
        .map(|(&(key, buf, p), head)| Item {
            key,
            nonce: nonce_of(head),
            head,
            body: &buf[p.start + 64..p.end],
        })
        .collect();
    let mut sigs = vec![[0u8; 16]; items.len()];
    compute(&items, &mut sigs);
    sigs
}

/// Every PDU of every well-formed chain with its job's key, in order.
fn every_pdu<'a>(
    key_bufs: &[(&'a SigningKey, &'a [u8])],
    chains: &'a [Result<Vec<Pdu>>],
) -> Vec<(&'a SigningKey, &'a [u8], &'a Pdu)> {
    key_bufs
        .iter()
        .zip(chains)
        .flat_map(|(&(key, buf), chain)| chain.iter().flatten().map(move |p| (key, buf, p)))
        .collect()
}

/// One PDU's verdict from its walked header and the signature computed for it.
fn verdict(p: &Pdu, computed: &[u8; 16]) -> Result<()> {
    if u32_at(&p.header, FLAGS_OFFSET) & FLAGS_SIGNED == 0 {
        Err(Error::NotSigned { offset: p.start })
    } else if !crate::ct::eq(
        computed,
        &p.header[SIGNATURE_OFFSET..SIGNATURE_OFFSET + SIGNATURE_LEN],
    ) {
        Err(Error::BadSignature { offset: p.start })
    } else {
        Ok(())
    }
}

/// Signs every job's PDU or compound chain in place, as [`crate::sign_pdu`]
/// would: `result[i]` is `jobs[i]`'s outcome. A malformed chain is reported
/// and left untouched; the others are signed.
pub fn sign_pdus<B: DerefMut<Target = [u8]>>(jobs: &mut [PduJob<'_, B>]) -> Vec<Result<()>> {
    scrub::after(Bytes::BATCH, || sign_each(jobs))
}

fn sign_each<B: DerefMut<Target = [u8]>>(jobs: &mut [PduJob<'_, B>]) -> Vec<Result<()>> {
    let chains: Vec<Result<Vec<Pdu>>> = jobs.iter().map(|j| parse(&j.pdu)).collect();
    let sigs = {
        let key_bufs: Vec<(&SigningKey, &[u8])> = jobs.iter().map(|j| (j.key, &*j.pdu)).collect();
        signatures(&every_pdu(&key_bufs, &chains), true)
    };
    let mut sig = sigs.iter();
    jobs.iter_mut()
        .zip(chains)
        .map(|(job, chain)| {
            for p in chain? {
                let flags = u32_at(&p.header, FLAGS_OFFSET) | FLAGS_SIGNED;
                job.pdu[p.start + FLAGS_OFFSET..p.start + FLAGS_OFFSET + 4]
                    .copy_from_slice(&flags.to_le_bytes());
                job.pdu[p.start + SIGNATURE_OFFSET..p.start + SIGNATURE_OFFSET + SIGNATURE_LEN]
                    .copy_from_slice(sig.next().expect("one signature per PDU"));
            }
            Ok(())
        })
        .collect()
}

/// Verifies every job's PDU or compound chain without modifying it, as
/// [`crate::verify_pdu`] would: `result[i]` is `jobs[i]`'s outcome (the
/// first unsigned or mismatching PDU of the chain, compared in constant time).
pub fn verify_pdus<B: Deref<Target = [u8]>>(jobs: &[PduJob<'_, B>]) -> Vec<Result<()>> {
    scrub::after(Bytes::BATCH, || {
        verify_each(jobs)
            .into_iter()
            .map(|chain| chain?.into_iter().collect::<Result<()>>())
            .collect()
    })
}

/// Verifies every job's PDU or compound chain without modifying it, with one
/// verdict per PDU: `result[i]` is `Err` when `jobs[i]`'s chain is malformed,
/// else the verdict of each of its PDUs in order ([`Error::NotSigned`] or
/// [`Error::BadSignature`] naming the PDU's offset), compared in constant time.
pub fn verify_pdus_each<B: Deref<Target = [u8]>>(
    jobs: &[PduJob<'_, B>],
) -> Vec<Result<Vec<Result<()>>>> {
    scrub::after(Bytes::BATCH, || verify_each(jobs))
}

fn verify_each<B: Deref<Target = [u8]>>(jobs: &[PduJob<'_, B>]) -> Vec<Result<Vec<Result<()>>>> {
    let chains: Vec<Result<Vec<Pdu>>> = jobs.iter().map(|j| parse(&j.pdu)).collect();
    let key_bufs: Vec<(&SigningKey, &[u8])> = jobs.iter().map(|j| (j.key, &*j.pdu)).collect();
    let sigs = signatures(&every_pdu(&key_bufs, &chains), false);
    let mut sig = sigs.iter();
    chains
        .into_iter()
        .map(|chain| {
            Ok(chain?
                .iter()
                .map(|p| verdict(p, sig.next().expect("one signature per PDU")))
                .collect())
        })
        .collect()
}

/// One compound chain of a batch, with the key that verifies each of its
/// PDUs in chain order (None: that PDU is not verified). In a chain of several
/// sessions each PDU needs its own session's key ([`crate::smb2::verifying_sessions`]).
#[derive(Debug)]
pub struct KeyedChainJob<'k, B> {
    /// One key per PDU of the chain.
    pub keys: &'k [Option<&'k SigningKey>],
    /// The PDU or compound chain.
    pub pdu: B,
}

/// Verifies each PDU of every job's chain with its own key, without modifying
/// anything: `result[i]` is `Err` when `jobs[i]`'s chain is malformed (the
/// chain walk's error) or its keys do not number its PDUs
/// ([`Error::BatchLength`]: `jobs` the PDUs, `outputs` the keys); else, per
/// PDU in order, None where no key was given, or its verdict as
/// [`verify_pdus_each`] gives it (constant-time comparison). All PDUs of all
/// jobs go through the batch engine together.
pub fn verify_chains_keyed<B: Deref<Target = [u8]>>(
    jobs: &[KeyedChainJob<'_, B>],
) -> Vec<Result<Vec<Option<Result<()>>>>> {
    let chains: Vec<Result<Vec<Pdu>>> = jobs
        .iter()
        .map(|j| {
            let pdus = parse(&j.pdu)?;
            if pdus.len() != j.keys.len() {
                return Err(Error::BatchLength {
                    jobs: pdus.len(),
                    outputs: j.keys.len(),
                });
            }
            Ok(pdus)
        })
        .collect();
    let keyed: Vec<(&SigningKey, &[u8], &Pdu)> = jobs
        .iter()
        .zip(&chains)
        .flat_map(|(j, chain)| {
            chain
                .iter()
                .flatten()
                .zip(j.keys)
                .filter_map(|(p, k)| k.map(|k| (k, &*j.pdu, p)))
        })
        .collect();
    let sigs = signatures(&keyed, false);
    let mut sig = sigs.iter();
    jobs.iter()
        .zip(&chains)
        .map(|(j, chain)| {
            let pdus = chain.as_ref().map_err(|e| *e)?;
            Ok(pdus
                .iter()
                .zip(j.keys)
                .map(|(p, k)| {
                    k.map(|_| verdict(p, sig.next().expect("one signature per keyed PDU")))
                })
                .collect())
        })
        .collect()
}
