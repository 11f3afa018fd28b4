/** The index's one expression builder: placeholders as expressions are written, and UpdateExpression clauses. */
import { describe, expect, it } from 'vitest';
import { ExpressionBuilder, updateExpression } from '../../lambdas/aws/dynamo-expressions.ts';
import { buildExpressions } from '../../lambdas/aws/dynamo-index.ts';

describe('ExpressionBuilder', () => {
  it('names an attribute once however often it is used, and numbers values unless given a key', () => {
    const expression = new ExpressionBuilder();
    const status = expression.name('status');
    const condition = `${status} <> ${expression.value('archived')} AND ${status} <> ${expression.value('erased')}`;
    const range = `${expression.name('startedAt', '#pk')} < ${expression.value('2026-11-01', 'until')}`;
    expect(condition).toBe('#status <> :v0 AND #status <> :v1');
    expect(range).toBe('#pk < :until');
    expect(expression.attributes()).toEqual({
      ExpressionAttributeNames: { '#status': 'status', '#pk': 'startedAt' },
      ExpressionAttributeValues: { ':v0': 'archived', ':v1': 'erased', ':until': '2026-11-01' },
    });
  });

  it('leaves out a placeholder map nothing used (DynamoDB refuses an empty one)', () => {
    const expression = new ExpressionBuilder();
    expression.name('id');
    expect(expression.attributes()).toEqual({
      ExpressionAttributeNames: { '#id': 'id' },
      ExpressionAttributeValues: undefined,
    });
  });

  it('refuses one placeholder for two attributes or two values', () => {
    const expression = new ExpressionBuilder();
    expression.name('accountId', '#pk');
    expression.value('acme', 'pk');
    expect(() => expression.name('provider', '#pk')).toThrow(/already names accountId/);
    expect(() => expression.value('other', 'pk')).toThrow(/already holds another value/);
  });
});

describe('updateExpression', () => {
  it('writes SET, REMOVE and ADD in that order, leaving out empty clauses', () => {
    expect(updateExpression({ set: ['#a = :v0', '#b = :v1'], remove: ['#c'], add: ['failures :v2'] })).toBe(
      'SET #a = :v0, #b = :v1 REMOVE #c ADD failures :v2',
    );
    expect(updateExpression({ set: [], remove: ['#c'] })).toBe('REMOVE #c');
    expect(updateExpression({})).toBe('');
  });
});

describe('buildExpressions', () => {
  it('writes the key condition with readable placeholders and reads filters inside the projected listing', () => {
    expect(
      buildExpressions(
        { partition: ['openStatus', 'failed'], lower: '2026-11-01#', upper: '2026-11-02#' },
        { accountId: 'acme', provider: undefined },
      ),
    ).toEqual({
      KeyConditionExpression: '#pk = :pk AND #sortKey BETWEEN :lower AND :upper',
      FilterExpression: '#listing.#accountId = :accountId',
      ExpressionAttributeNames: {
        '#pk': 'openStatus',
        '#sortKey': 'sortKey',
        '#listing': 'listing',
        '#accountId': 'accountId',
      },
      ExpressionAttributeValues: {
        ':pk': 'failed',
        ':lower': '2026-11-01#',
        ':upper': '2026-11-02#',
        ':accountId': 'acme',
      },
    });
  });
});
