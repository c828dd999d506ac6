export * from './index.js'
import * as aopay from './index.js'
export default aopay
