/** Byte-level BPE tokenizer training, producing Hugging Face tokenizer.json files. */
export { trainByteLevelBpe, writeTokenizerFiles, type ByteLevelBpeOptions, type TrainedTokenizer } from './train.ts';
export { trainBpe, type BpeModel, type BpeTrainOptions } from './bpe-trainer.ts';
export { byteAlphabet, byteLevelPieces } from './byte-level.ts';
