// ml-cart ships no types; this covers what lora-placer uses.
declare module 'ml-cart' {
  export interface CartOptions {
    gainFunction?: 'regression' | 'gini';
    splitFunction?: 'mean';
    minNumSamples?: number;
    maxDepth?: number;
    gainThreshold?: number;
  }
  export class DecisionTreeRegression {
    constructor(options?: CartOptions);
    train(x: number[][], y: number[]): void;
    predict(x: number[][]): number[];
    toJSON(): unknown;
    static load(model: unknown): DecisionTreeRegression;
  }
  export class DecisionTreeClassifier {
    constructor(options?: CartOptions);
    train(x: number[][], y: number[]): void;
    predict(x: number[][]): number[];
    toJSON(): unknown;
    static load(model: unknown): DecisionTreeClassifier;
  }
}
