/**
 * The one way the index writes DynamoDB expressions: attribute names and values become
 * placeholders as the expression is written, so no caller keeps its own `#n`/`:v` counters and
 * the placeholder maps hold exactly what the expressions use (DynamoDB refuses unused ones).
 */
export class ExpressionBuilder {
  private readonly names: Record<string, string> = {};
  private readonly values: Record<string, unknown> = {};
  private counted = 0;

  /** The placeholder of an attribute name: `#attribute` unless `placeholder` says otherwise. */
  name(attribute: string, placeholder = `#${attribute}`): string {
    const known = this.names[placeholder];
    if (known !== undefined && known !== attribute)
      throw new Error(`placeholder ${placeholder} already names ${known}, not ${attribute}`);
    this.names[placeholder] = attribute;
    return placeholder;
  }

  /** The placeholder of a value: `:key` when a key is given (readable key conditions), else numbered. */
  value(value: unknown, key?: string): string {
    const placeholder = key === undefined ? `:v${this.counted++}` : `:${key}`;
    if (placeholder in this.values && this.values[placeholder] !== value)
      throw new Error(`placeholder ${placeholder} already holds another value`);
    this.values[placeholder] = value;
    return placeholder;
  }

  /** The placeholder maps for a command's input; a map that would be empty is left out. */
  attributes(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, unknown>;
  } {
    return {
      ExpressionAttributeNames: Object.keys(this.names).length ? { ...this.names } : undefined,
      ExpressionAttributeValues: Object.keys(this.values).length ? { ...this.values } : undefined,
    };
  }
}

/** An UpdateExpression from its clauses, in DynamoDB's order; empty when no clause has an action. */
export function updateExpression(clauses: { set?: string[]; remove?: string[]; add?: string[] }): string {
  return (
    [
      ['SET', clauses.set],
      ['REMOVE', clauses.remove],
      ['ADD', clauses.add],
    ] as const
  )
    .filter(([, actions]) => actions && actions.length > 0)
    .map(([clause, actions]) => `${clause} ${(actions as string[]).join(', ')}`)
    .join(' ');
}
