import { describe, expect, it } from 'vitest';
import { htmlVerdict, sniffsAsHtml, sniffsType } from '../../gateway/sniff.js';

describe('sniffsAsHtml (the browser reading an untyped document)', () => {
  it.each([
    ['<!DOCTYPE html><html>', true],
    ['<!doctype HTML>', true],
    ['  \n\t<html lang="en">', true],
    ['<HEAD>', true],
    ['<script>x</script>', true],
    ['<p>text', true],
    ['<b>bold', true],
    ['<br>', true],
    ['<!-- note -->', true],
    ['<a href="/">', true],
    ['<table ', true],
    // A pattern must end with a space or '>'.
    ['<html', false],
    ['<bx>', false],
    ['<pre>text', false],
    ['<span>text', false],
    ['<!---->', false],
    // Not markup: text, JSON, XML, a byte order mark in front (not skipped).
    ['hello <html>', false],
    ['{"a": "<html>"}', false],
    ['<?xml version="1.0"?><html>', false],
    ['\ufeff<html>', false],
    ['', false],
  ])('%j -> %s', (text, expected) => {
    expect(sniffsAsHtml(Buffer.from(text, 'utf8'))).toBe(expected);
  });
});

describe('htmlVerdict (decided as early as the bytes allow)', () => {
  it.each<[string, boolean, boolean | null]>([
    ['<ht', false, null],
    ['<ht', true, false],
    ['  <html>', false, true],
    ['<p', false, null],
    ['<p>', false, true],
    ['<pre', false, false],
    ['hello', false, false],
    ['   ', false, null],
    ['   ', true, false],
    ['<!DOCTYPE', false, null],
    ['<!DOCTYPE HTML>', false, true],
  ])('%j (final %s) -> %s', (text, final, expected) => {
    expect(htmlVerdict(Buffer.from(text, 'latin1'), final)).toBe(expected);
  });
});

describe('sniffsType', () => {
  it.each<[string | undefined, boolean, boolean]>([
    [undefined, false, true],
    ['', false, true],
    ['unknown/unknown', false, true],
    ['Application/Unknown; x=1', false, true],
    ['*/*', false, true],
    ['text/plain', false, false],
    ['application/octet-stream', false, false],
    ['text/html', false, false],
    [undefined, true, false],
  ])('%j (nosniff %s) -> %s', (type, noSniff, expected) => {
    expect(sniffsType(type, noSniff)).toBe(expected);
  });
});
